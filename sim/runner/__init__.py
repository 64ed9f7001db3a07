"""Virtual time and one run: the kernel, the market model, scenario files, the harness."""
