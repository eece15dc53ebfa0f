"""Operating the gateway's state with the real binary: `stablegate backup` of a running gateway
under a load of signed creates, `stablegate restore` and what it refuses, the schema-version
guard, and `stablegate keys rotate-master` killed with SIGKILL at random points."""
import base64
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BINARY, Gateway, backends, psql, run_cli, signed_request


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def environment(master_key, **extra):
    env = {**os.environ, "STABLEGATE_MASTER_KEY": master_key, "STABLEGATE_API_KEY_CACHE_TTL": "0",
           "STABLEGATE_API_DEFAULT_RATE_LIMIT": "1000000"}
    env.pop("STABLEGATE_NEW_MASTER_KEY", None)
    env.update(extra)
    return env


def cli(database, data_dir, env, *args, check=True):
    return run_cli(*args, "--database", database, "--data-dir", str(data_dir), env=env, check=check)


def create(gateway, merchant, order_id):
    body = json.dumps({"stable_coin": 1, "amount_cents": 1000, "order_id": order_id}).encode()
    return signed_request(gateway.base_url, "POST", "/v1/checkout_intents", merchant["api_key"], merchant["api_secret"], body=body)


def integrity(path):
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("PRAGMA integrity_check")]


def test_backup_under_load_restores_every_answered_create(tmp_path):
    """Signed creates run on 4 threads while `stablegate backup` copies the database: the restored
    copy passes an integrity check and holds every create answered before the backup began."""
    key = new_key()
    env = environment(key)
    live = tmp_path / "live"
    live.mkdir()
    database = f"sqlite:{live}/db.sqlite"
    # A few thousand orders first, so the copy takes long enough for creates to land during it.
    cli(database, live, env, "bench-seed-orders", "--orders", "20000", "--email", "ops@example.test")
    gateway = Gateway(database, live, env=env).start()
    answered = []  # (order id, intent id, monotonic time the answer was read)
    failures = []
    stop = threading.Event()
    lock = threading.Lock()
    try:
        merchant = gateway.merchant()

        def load(worker):
            number = 0
            while not stop.is_set():
                number += 1
                order_id = f"load-{worker}-{number}"
                try:
                    status, _, reply = create(gateway, merchant, order_id)
                except OSError as error:
                    failures.append(f"{order_id}: {error}")
                    continue
                at = time.monotonic()
                if status == 200 and reply.get("code") == 0:
                    with lock:
                        answered.append((order_id, reply["payload"]["allscale_checkout_intent_id"], at))
                else:
                    failures.append(f"{order_id}: {status} {reply}")

        threads = [threading.Thread(target=load, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        backup = tmp_path / "backups" / "stablegate.sqlite"
        began = time.monotonic()
        result = cli(database, live, env, "backup", "--to", str(backup))
        ended = time.monotonic()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        gateway.stop()

    assert not failures, failures[:5]
    before = {intent for _, intent, at in answered if at < began}
    during = [intent for _, intent, at in answered if began <= at <= ended]
    assert len(before) > 50, f"only {len(before)} creates answered before the backup began"
    assert during, f"no create was answered while the backup ran ({ended - began:.2f} s): it was not taken under load"
    assert result.stdout.startswith(f"wrote {backup}: ") and "integrity check ok" in result.stdout, result.stdout
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert not [p.name for p in backup.parent.iterdir() if p.name != backup.name], "no temporary file is left beside it"

    restored_dir = tmp_path / "restored"
    restored = f"sqlite:{restored_dir}/db.sqlite"
    out = cli(restored, restored_dir, env, "restore", "--from", str(backup)).stdout
    assert out.startswith(f"restored {backup} to {restored}: "), out
    path = restored_dir / "db.sqlite"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert integrity(path) == ["ok"]
    with sqlite3.connect(path) as db:
        present = {row[0] for row in db.execute("SELECT id FROM checkout_intents")}
    missing = before - present
    assert not missing, f"{len(missing)} creates answered before the backup began are not in it, e.g. {sorted(missing)[:3]}"
    print(f"\nbackup under load: {len(before)} creates answered before it began, {len(during)} while it ran "
          f"({ended - began:.2f} s), {len(present)} intents restored")

    # The restored database serves: the merchant's key still signs, an order answered before is there.
    gateway = Gateway(restored, restored_dir, env=env).start()
    try:
        last = max((entry for entry in answered if entry[2] < began), key=lambda entry: entry[2])
        status, _, reply = signed_request(gateway.base_url, "GET", f"/v1/checkout_intents/{last[1]}", merchant["api_key"], merchant["api_secret"])
        assert status == 200 and reply["payload"]["order_id"] == last[0], reply
    finally:
        gateway.stop()


def test_restore_checks_before_it_replaces_anything(tmp_path):
    key = new_key()
    env = environment(key)
    source_dir = tmp_path / "source"
    source = f"sqlite:{source_dir}/db.sqlite"
    merchant = json.loads(cli(source, source_dir, env, "merchants", "create", "--name", "Backed Up", "--json").stdout)
    backup = tmp_path / "backup.sqlite"
    cli(source, source_dir, env, "backup", "--to", str(backup))

    again = cli(source, source_dir, env, "backup", "--to", str(backup), check=False)
    assert again.returncode != 0 and f"{backup} already exists; pass --force" in again.stderr
    assert "wrote" in cli(source, source_dir, env, "backup", "--to", str(backup), "--force").stdout
    pg = run_cli("backup", "--to", str(tmp_path / "pg.dump"), "--database", "postgres://u:p@127.0.0.1:9/stablegate", env=env, check=False)
    assert pg.returncode != 0 and "pg_dump -Fc" in pg.stderr and "pg_restore" in pg.stderr, pg.stderr

    target_dir = tmp_path / "target"
    target = f"sqlite:{target_dir}/db.sqlite"

    def refused(file, env, *extra):
        result = cli(target, target_dir, env, "restore", "--from", str(file), *extra, check=False)
        assert result.returncode != 0, result.stdout
        assert f"refusing to restore {file}" in result.stderr and "Nothing was changed" in result.stderr, result.stderr
        leftovers = [p.name for p in target_dir.iterdir()] if target_dir.exists() else []
        assert "db.sqlite" not in leftovers and not [n for n in leftovers if n.endswith(".tmp")], leftovers
        return result.stderr

    # Another master key than the backup's.
    assert "not sealed under the configured master key" in refused(backup, environment(new_key()))
    # A newer schema: a copy with a migration this binary does not know.
    newer = tmp_path / "newer.sqlite"
    shutil.copy(backup, newer)
    with sqlite3.connect(newer) as db:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)")
    assert "database schema 999 is newer than this binary" in refused(newer, env)
    # Not a database at all, and a missing file.
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(64 * 1024))
    assert "not a readable SQLite database" in refused(junk, env)
    assert "cannot read" in refused(tmp_path / "missing.sqlite", env)

    # The good one restores; over an existing database only with --force, and never under a running gateway.
    cli(target, target_dir, env, "restore", "--from", str(backup))
    exists = cli(target, target_dir, env, "restore", "--from", str(backup), check=False)
    assert exists.returncode != 0 and "already exists; pass --force" in exists.stderr
    gateway = Gateway(target, target_dir, env=env).start()
    try:
        later = gateway.merchant("Created After The Backup")
        busy = gateway.cli("restore", "--from", str(backup), "--force", check=False)
        assert busy.returncode != 0 and "in use by another process" in busy.stderr, busy.stderr
        status, _, _ = signed_request(gateway.base_url, "GET", "/v1/test/ping", later["api_key"], later["api_secret"])
        assert status == 200, "the running gateway's database was left alone"
    finally:
        gateway.stop()
    cli(target, target_dir, env, "restore", "--from", str(backup), "--force")
    assert not (target_dir / "db.sqlite-wal").exists()
    gateway = Gateway(target, target_dir, env=env).start()
    try:
        status, _, _ = signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], merchant["api_secret"])
        assert status == 200
        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", later["api_key"], later["api_secret"])
        assert status != 200, "the merchant created after the backup is gone: the backup replaced the database"
    finally:
        gateway.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_a_newer_schema_refuses_to_start(database, tmp_path):
    env = environment(new_key())
    cli(database, tmp_path, env, "migrate")
    if database.startswith("sqlite:"):
        with sqlite3.connect(database.removeprefix("sqlite:")) as db:
            db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)")
    else:
        psql(database, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', 0)")
    for args in (["serve", "--port", "0"], ["merchants", "create", "--name", "X"], ["migrate"], ["keys", "verify-master"]):
        result = cli(database, tmp_path, env, *args, check=False)
        assert result.returncode != 0, args
        assert "database schema 999 is newer than this binary" in result.stderr and "Upgrade the binary" in result.stderr, result.stderr


def verify(database, data_dir, current, candidate):
    """`keys verify-master` with `current` configured and `candidate` given in a file: which key
    opens how many of the sealed secrets."""
    candidate_file = data_dir / "candidate.key"
    candidate_file.write_text(candidate + "\n")
    result = cli(database, data_dir, environment(current), "keys", "verify-master", "--key-file", str(candidate_file), "--json", check=False)
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["keys"][0]["opens"] == report["total"] else 1), result
    return report


def doctor_master_key(database, data_dir, configured, chains):
    """The `master key` check of `stablegate doctor --json` with `configured` as the master key."""
    result = cli(database, data_dir, environment(configured), "doctor", "--json", "--chains", str(chains), "--timeout", "5", check=False)
    (check,) = [check for check in json.loads(result.stdout)["checks"] if check["name"] == "master key"]
    return check


def first_fingerprint(report):
    """The fingerprint of the configured (first) key in a `verify-master --json` report."""
    return report["keys"][0]["fingerprint"]


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_rotation_killed_at_random_points_leaves_all_old_or_all_new(database, tmp_path):
    current = new_key()
    env = environment(current)
    chains = tmp_path / "chains.json"
    chains.write_text(json.dumps({"chains": [{"chain_id": 31337, "name": "Unused", "rpc_url": "http://127.0.0.1:9", "tokens": [
        {"stable_coin": 1, "contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "decimals": 6}]}]}))
    # Secrets of every kind: API secrets, link tokens of many intents, the sandbox deposit seed
    # and hot wallet key (generated because a chains file is given), the check value.
    merchant = json.loads(cli(database, tmp_path, env, "merchants", "create", "--name", "Rotating", "--json", "--chains", str(chains)).stdout)
    for index in range(20):
        cli(database, tmp_path, env, "keys", "create", "--store", merchant["store_id"], "--label", f"k{index}")
    cli(database, tmp_path, env, "bench-seed-orders", "--orders", "4000", "--email", "ops@example.test", "--chains", str(chains))
    first = verify(database, tmp_path, current, new_key())
    total = first["total"]
    assert first["keys"][0]["opens"] == total and first["tables"]["gateway_secrets"] == 3 and first["tables"]["api_keys"] == 22
    assert total == 4000 + 22 + 3  # the seeded orders' links, 1 + 20 + the seeder's merchant's keys, wallet seed, hot key, check value

    def rotate(new):
        key_file = tmp_path / "new.key"
        key_file.write_text(new + "\n")
        process = subprocess.Popen([str(BINARY), "keys", "rotate-master", "--new-key-file", str(key_file), "--database", database,
                                    "--data-dir", str(tmp_path), "--chains", str(chains)],
                                   env=environment(current), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        began = threading.Event()

        def watch():
            for line in process.stderr:
                if line.startswith("re-sealing"):
                    began.set()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        return process, began, watcher

    # One rotation to the end, to time its transaction.
    new = new_key()
    started = time.monotonic()
    process, began, watcher = rotate(new)
    assert began.wait(60), "rotate-master never began its transaction"
    in_transaction = time.monotonic()
    assert process.wait(120) == 0, process.stdout.read()
    transaction = time.monotonic() - in_transaction
    whole = time.monotonic() - started
    assert f"re-sealed {total} secrets" in process.stdout.read()
    report = verify(database, tmp_path, current, new)
    assert report["keys"][1]["opens"] == total and report["keys"][0]["opens"] == 0
    current = new

    random.seed()
    outcomes = []
    for iteration in range(10):
        new = new_key()
        process, began, watcher = rotate(new)
        if iteration % 2 == 0:
            # Inside the transaction: after it began, before it could have committed.
            assert began.wait(60)
            delay = random.uniform(0, transaction * 0.9)
        else:
            # Anywhere in the run, sometimes after it ended (then the next rotation starts from the new key).
            delay = random.uniform(0, whole * 2)
        time.sleep(delay)
        was_running = process.poll() is None
        killed_inside = was_running and began.is_set()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        watcher.join(5)
        report = verify(database, tmp_path, current, new)
        opens = [entry["opens"] for entry in report["keys"]]
        assert report["total"] == total and report["opened_by_none"] == 0, report
        assert sorted(opens) == [0, total], f"iteration {iteration}: a mix of keys after SIGKILL at {delay:.3f} s: {report}"
        ended_new = opens[1] == total
        # The doctor, run with the key the installation is configured with (the old one until
        # the operator switches), says which key the secrets are under.
        doctor = doctor_master_key(database, tmp_path, current, chains)
        old_fingerprint = first_fingerprint(report)
        assert f"fingerprint {old_fingerprint}" in doctor["detail"], doctor
        if ended_new:
            assert doctor["status"] == "fail" and f"0 of {total} open" in doctor["detail"], doctor
        else:
            assert doctor["status"] == "ok" and f"{total} of {total} open" in doctor["detail"], doctor
        outcomes.append(("new" if ended_new else "old", killed_inside, round(delay, 3)))
        if ended_new:
            assert not was_running or process.returncode == -signal.SIGKILL
            current = new
    print(f"\nrotation: {total} secrets, transaction {transaction:.2f} s, whole run {whole:.2f} s; outcomes {outcomes}")
    assert any(outcome == "old" and inside for outcome, inside, _ in outcomes), \
        f"no kill landed inside the transaction, so none proved it rolls back: {outcomes}"

    # The surviving key is the one the gateway runs with: the merchant's key signs.
    gateway = Gateway(database, tmp_path, env=environment(current)).start()
    try:
        status, _, reply = signed_request(gateway.base_url, "GET", "/v1/test/ping", merchant["api_key"], merchant["api_secret"])
        assert status == 200, reply
    finally:
        gateway.stop()
    stale = cli(database, tmp_path, environment(new_key()), "merchants", "create", "--name", "Stale Key", check=False)
    assert stale.returncode != 0 and "sealed with another master key" in stale.stderr
