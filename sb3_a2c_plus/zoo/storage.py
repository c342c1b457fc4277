"""
Optuna heartbeats for tuning on a shared database. The zoo passes ``--storage`` to Optuna as
a URL, which gives an ``RDBStorage`` without heartbeat: a worker killed mid-trial would leave
its trial RUNNING forever. With a heartbeat, the next trial started by any other worker marks
it FAIL and queues one retry with the same parameters.
"""

import contextlib
import os
import time
from collections.abc import Iterator

import optuna
import sqlalchemy.exc

HEARTBEAT_VARIABLE = "SB3_A2C_PLUS_OPTUNA_HEARTBEAT"
DEFAULT_HEARTBEAT_SECONDS = 60
SCHEMA_ATTEMPTS = 5


def is_database_url(storage: str | None) -> bool:
    """Whether ``--storage`` names a database (the zoo treats ``*.log`` as a journal file)."""
    return storage is not None and "://" in storage and not storage.endswith(".log")


def heartbeat_storage(url: str) -> optuna.storages.RDBStorage:
    """
    ``RDBStorage`` on ``url`` with a heartbeat every ``$SB3_A2C_PLUS_OPTUNA_HEARTBEAT`` seconds
    (default 60) and a grace period of twice that.
    """
    interval = int(os.environ.get(HEARTBEAT_VARIABLE, DEFAULT_HEARTBEAT_SECONDS))
    if interval < 1:
        raise ValueError(f"{HEARTBEAT_VARIABLE} must be a whole number of seconds >= 1, got {interval}")
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(
                url,
                heartbeat_interval=interval,
                grace_period=2 * interval,
                failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=1),
            )
        except sqlalchemy.exc.IntegrityError:
            # Workers started together on an empty database race to create Optuna's tables;
            # the loser finds them created on its next attempt.
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def studies_with_heartbeat(url: str) -> Iterator[None]:
    """Within this block, ``optuna.create_study(storage=url)`` gets the heartbeat storage."""
    original_create_study = optuna.create_study
    storage = heartbeat_storage(url)

    def create_study(*args, **kwargs):
        if kwargs.get("storage") == url:
            kwargs["storage"] = storage
        return original_create_study(*args, **kwargs)

    optuna.create_study = create_study  # type: ignore[assignment]
    try:
        yield
    finally:
        optuna.create_study = original_create_study  # type: ignore[assignment]
