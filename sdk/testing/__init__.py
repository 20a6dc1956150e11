"""Test helpers under Prefect's module path (`sdk.testing.utilities.prefect_test_harness`)."""
