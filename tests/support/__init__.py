"""What the tests (and benchmarks) need that the production code must not carry."""
