"""Load benchmarks (``make bench``): corpus generator, reference servers, wrk driver, reports."""
