"""Caching task results: the engine's side (`task_cache`), stable hashes (`hashing`) and
the on-disk result store (`result_store`). Cache policies themselves are public:
`sdk.cache_policies`.

Imported only by tasks that cache, so `import sdk` does not pay for it.
"""
