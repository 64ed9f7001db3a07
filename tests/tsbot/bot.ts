// A TypeScript bot on Polymarket's official CLOB V2 client (@polymarket/clob-client-v2) and the
// `ws` WebSocket client, run against `clobsim run --bot-cmd` by tests/server/test_bots.py. It does
// what examples/wsbots/bot.py does (WSBOT_MODE=channel): buy 10 Up shares at the best ask, rest
// a 5-share bid far below and cancel it, then take its fill and its cancellation from the user
// channel alone, and print FILL / CANCELLED / POSITION lines.
import { ClobClient, Chain, Side } from "@polymarket/clob-client-v2";
import { Wallet } from "@ethersproject/wallet";
import WebSocket from "ws";

const env = process.env;
const need = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: run me with clobsim run --bot-cmd`);
  return value;
};
const listenMs = 1000 * Number(env.WSBOT_LISTEN_SECONDS ?? "3");

interface UserEvent {
  event_type?: string;
  type?: string;
  id?: string;
  taker_order_id?: string;
  size?: string;
  price?: string;
}

async function main(): Promise<void> {
  const creds = { key: need("CLOBSIM_API_KEY"), secret: need("CLOBSIM_API_SECRET"), passphrase: need("CLOBSIM_API_PASSPHRASE") };
  const client = new ClobClient({
    host: need("CLOBSIM_CLOB_HOST"),
    chain: Number(need("CLOBSIM_CHAIN_ID")) as Chain,
    signer: new Wallet(need("CLOBSIM_PRIVATE_KEY")),
    creds,
    throwOnError: true,
  });
  const token = need("CLOBSIM_TOKEN_UP");
  const events: UserEvent[] = [];
  const socket = new WebSocket(`${need("CLOBSIM_WS_URL")}/user`);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  socket.on("message", (data) => {
    const parsed = JSON.parse(data.toString());
    for (const event of Array.isArray(parsed) ? parsed : [parsed]) events.push(event as UserEvent);
  });
  socket.send(
    JSON.stringify({
      type: "user",
      auth: { apiKey: creds.key, secret: creds.secret, passphrase: creds.passphrase },
      markets: [need("CLOBSIM_MARKET")],
    }),
  );
  const book = await client.getOrderBook(token);
  const bestAsk = Math.min(...book.asks.map((level) => Number(level.price)));
  const taken = await client.createAndPostOrder({ tokenID: token, price: bestAsk, size: 10, side: Side.BUY });
  const resting = await client.createAndPostOrder({ tokenID: token, price: 0.05, size: 5, side: Side.BUY });
  await client.cancelOrder({ orderID: resting.orderID });
  await new Promise((resolve) => setTimeout(resolve, listenMs));
  socket.close();

  const mine = new Set([taken.orderID, resting.orderID]);
  const fills = new Map<string, UserEvent>();
  const cancelled = new Set<string>();
  for (const event of events) {
    if (event.event_type === "trade" && mine.has(event.taker_order_id ?? "")) fills.set(`${event.id}/${event.taker_order_id}`, event);
    if (event.event_type === "order" && event.type === "CANCELLATION" && mine.has(event.id ?? "")) cancelled.add(event.id ?? "");
  }
  let position = 0;
  for (const fill of fills.values()) {
    console.log(`FILL trade=${fill.id} order=${fill.taker_order_id} size=${Number(fill.size)} price=${fill.price}`);
    position += Number(fill.size);
  }
  for (const orderId of cancelled) console.log(`CANCELLED order=${orderId}`);
  console.log(`POSITION UP ${position}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
