"""Tests of the benchmark harness in bench/."""
