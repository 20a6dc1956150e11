"""Generated run names: `adjective-animal` for flow runs, `<task>-<3 hex>` for task runs."""
from __future__ import annotations

import random

__all__ = ["flow_run_name", "task_run_name"]

_ADJECTIVES = (
    "amber", "ancient", "arctic", "azure", "bold", "brave", "bright", "calm", "clever", "cobalt",
    "cosmic", "crimson", "curious", "daring", "dapper", "eager", "electric", "emerald", "fancy",
    "fearless", "fiery", "gentle", "golden", "graceful", "hidden", "humble", "icy", "ivory", "jade",
    "jolly", "keen", "lively", "lucky", "magenta", "mellow", "mighty", "misty", "nimble", "noble",
    "olive", "outstanding", "patient", "placid", "quick", "quiet", "rapid", "ruby", "rustic",
    "sage", "scarlet", "silver", "smart", "sparkling", "spry", "steady", "stellar", "sturdy",
    "swift", "tidy", "tranquil", "vivid", "wandering", "wise", "witty", "zealous",
)
_ANIMALS = (
    "albatross", "alpaca", "badger", "beaver", "bison", "bobcat", "capybara", "caribou", "cheetah",
    "chipmunk", "cobra", "condor", "coyote", "crane", "dingo", "dolphin", "eagle", "ermine",
    "falcon", "ferret", "finch", "gazelle", "gecko", "gibbon", "heron", "hyena", "ibex", "iguana",
    "jackal", "jaguar", "kestrel", "kingfisher", "koala", "lemur", "leopard", "lynx", "manatee",
    "marmot", "meerkat", "mongoose", "narwhal", "newt", "ocelot", "otter", "panda", "pelican",
    "penguin", "puffin", "quail", "raccoon", "raven", "salamander", "seal", "sparrow", "squid",
    "tapir", "tortoise", "toucan", "walrus", "weasel", "wolverine", "wombat", "yak", "zebra",
)


def flow_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}"


_bits = random.getrandbits


def task_run_name(task_name: str) -> str:
    return f"{task_name}-{_bits(12):03x}"
