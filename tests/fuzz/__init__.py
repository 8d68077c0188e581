"""Property-based and schema-based robustness tests (hypothesis, schemathesis) on a real Redis."""
