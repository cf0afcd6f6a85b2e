"""How the collector meets the network: uvicorn's HTTP protocol with limits, the pixel fast path, the runner."""
