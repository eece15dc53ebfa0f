"""Payments on the sandbox chain through the built binary: CLI test payments, a reorg, crashes
at the worst moments (SIGKILL), and two instances sharing one database and chain.

Customers' transfers are signed here with eth-account, independently of the gateway's code."""
import signal
import subprocess
import time

import pytest

from conftest import (SandboxChain, backends, create_intent, random_address, select_deposit, settled, setup_merchant, show,
                      start_gateway, wait_for)

@pytest.mark.parametrize("database", backends(), indirect=True)
def test_sandbox_pay_cli_pays_an_intent_end_to_end(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain).start()
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        intent_id = create_intent(gateway, merchant, 2500)
        paid = gateway.cli("sandbox", "pay", intent_id, "--chains", str(chain.chains_file), "--state-file", str(chain.state_file))
        assert "sent 25.00 USDT on Sandbox" in paid.stdout, paid.stdout
        chain.mine(2)
        data = wait_for("CONFIRMED and settled", settled(gateway, intent_id))
        assert data["intent"]["actual_paid_amount"] == "25.00"
        assert data["intent"]["net_income_amount"] == "24.75"
        assert chain.balance(wallet) == 24_750_000
        assert [t["to"] for t in data["transitions"]] == ["CREATED", "TEMP_WALLET_RECEIVED", "ON_CHAIN", "CONFIRMED"]
    finally:
        gateway.stop()


def test_a_reorg_that_drops_the_payment_takes_the_intent_back(tmp_path):
    chain = SandboxChain(tmp_path / "reorg-chain")  # its own chain: the revert rewinds everything
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain).start()
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        intent_id = create_intent(gateway, merchant)
        deposit = select_deposit(gateway, intent_id, chain)
        snapshot = chain.rpc("evm_snapshot")
        dropped_tx = chain.pay(deposit, 10_000_000)
        wait_for("ON_CHAIN", lambda: show(gateway, intent_id)["intent"]["status"] == 10)
        chain.rpc("evm_revert", [snapshot])
        chain.mine(1)  # a different block at the payment's height
        data = wait_for("back to TEMP_WALLET_RECEIVED", lambda: (d := show(gateway, intent_id))["intent"]["status"] == 3 and d)
        reason = data["transitions"][-1]["reason"]
        assert "reorganisation" in reason and dropped_tx in reason, reason
        assert data["intent"]["tx_hash"] is None
        assert [t["state"] for t in data["transfers"]] == ["dropped"]
        # Paying again completes the order, counting only the new transfer.
        chain.pay(deposit, 10_000_000)
        chain.mine(2)
        data = wait_for("CONFIRMED", settled(gateway, intent_id))
        assert data["intent"]["actual_paid_amount"] == "10.00"
        assert chain.balance(wallet) == 9_900_000
    finally:
        gateway.stop()
        chain.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_sigkill_between_detection_and_confirmation_loses_nothing(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    gateway = start_gateway(database, tmp_path, chain).start()
    wallet = random_address()
    merchant = setup_merchant(gateway, wallet)
    intent_id = create_intent(gateway, merchant)
    deposit = select_deposit(gateway, intent_id, chain)
    chain.pay(deposit, 10_000_000)
    wait_for("ON_CHAIN", lambda: show(gateway, intent_id)["intent"]["status"] == 10)
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait()
    chain.mine(3)
    gateway.start()
    try:
        data = wait_for("CONFIRMED and settled after restart", settled(gateway, intent_id))
        assert len(data["transfers"]) == 1 and data["transfers"][0]["credited"]
        assert len(data["settlements"]) == 1
        assert chain.balance(wallet) == 9_900_000
        assert chain.balance(deposit) == 0
    finally:
        gateway.stop()


@pytest.mark.parametrize("database", backends(), indirect=True)
def test_sigkill_right_after_each_sweep_broadcast_sends_nothing_twice(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    fee_before = chain.balance(chain.fee_wallet)
    gateway = start_gateway(database, tmp_path, chain, {"STABLEGATE_FAULT_INJECTION": "after-sweep-broadcast"})
    gateway.start()
    wallet = random_address()
    merchant = setup_merchant(gateway, wallet)
    intent_id = create_intent(gateway, merchant)
    deposit = select_deposit(gateway, intent_id, chain)
    chain.pay(deposit, 10_000_000)
    chain.mine(2)
    # Each life of the gateway dies right after broadcasting a sweep transaction, before
    # recording it; the next life must rebroadcast that same transaction, never a new one.
    kills = 0
    is_settled = settled(gateway, intent_id)
    while kills < 8:
        deadline = time.time() + 60
        while gateway.process.poll() is None and not is_settled() and time.time() < deadline:
            time.sleep(0.2)
        if gateway.process.poll() is None:
            break  # alive and settled (or out of time: the checks below say which)
        assert gateway.process.returncode == -signal.SIGKILL, gateway.logs()
        kills += 1
        gateway.stop()
        try:
            gateway.start()
        except AssertionError:
            pass  # killed again before it answered its health check: the loop handles it
    gateway.stop()
    clean = start_gateway(database, tmp_path, chain).start()  # fault injection off
    try:
        data = wait_for("settled", settled(clean, intent_id))
        assert kills >= 2, f"expected the sweeper to be killed at several broadcasts, got {kills}"
        assert chain.balance(wallet) == 9_900_000, "the merchant got the net exactly once"
        assert chain.balance(chain.fee_wallet) - fee_before == 100_000, "the fee was paid exactly once"
        assert chain.balance(deposit) == 0
        assert chain.nonce(deposit) == 2, "exactly two transactions ever left the deposit wallet"
        mined = [s for s in data["sweep_transactions"] if s["state"] == "mined"]
        assert sorted(s["kind"] for s in mined) == ["fee", "gas", "merchant"]
    finally:
        clean.stop()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_two_instances_watch_a_chain_once_and_take_over_from_a_dead_one(database, tmp_path, chain):
    chain.fee_wallet = random_address()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # A long lease: the survivor must take over because it can prove the holder is gone (a
    # process on this host that no longer exists), not because the lease ran out.
    lease = {"STABLEGATE_CHAINS_LEASE_TTL": "60"}
    first = start_gateway(database, tmp_path / "a", chain, lease).start()
    (tmp_path / "b" / "master.key").write_bytes((tmp_path / "a" / "master.key").read_bytes())
    second = start_gateway(database, tmp_path / "b", chain, lease).start()
    try:
        wallet = random_address()
        merchant = setup_merchant(first, wallet)
        intent_id = create_intent(first, merchant)
        deposit = select_deposit(second, intent_id, chain)
        chain.pay(deposit, 10_000_000)
        chain.mine(2)
        data = wait_for("settled", settled(first, intent_id))
        assert len(data["transfers"]) == 1 and len(data["settlements"]) == 1
        assert [s["kind"] for s in data["sweep_transactions"]].count("merchant") == 1
        assert chain.balance(wallet) == 9_900_000
        # Kill whichever instance holds the lease; the other takes the chain over.
        holder = subprocess.run(["psql", database, "-tAc", "SELECT holder FROM chain_leases WHERE chain_id = %d" % chain.chain(0)["chain_id"]],
                                capture_output=True, text=True, check=True).stdout.strip()
        leader, survivor = (first, second) if f"/{first.process.pid}/" in holder else (second, first)
        assert f"/{leader.process.pid}/" in holder, holder
        leader.process.send_signal(signal.SIGKILL)
        leader.process.wait()
        killed_at = time.monotonic()

        def lease_holder():
            return subprocess.run(["psql", database, "-tAc", "SELECT holder FROM chain_leases WHERE chain_id = %d" % chain.chain(0)["chain_id"]],
                                  capture_output=True, text=True, check=True).stdout.strip()
        wait_for("the survivor holding the lease", lambda: f"/{survivor.process.pid}/" in lease_holder(), seconds=30)
        takeover = time.monotonic() - killed_at
        print(f"\nchain takeover after SIGKILL of the leader: {takeover:.2f} s (lease 60 s)")
        assert takeover < 20, f"took {takeover:.1f} s: the survivor waited for the lease instead of seeing the holder was gone"
        second_intent = create_intent(survivor, merchant)
        second_deposit = select_deposit(survivor, second_intent, chain)
        chain.pay(second_deposit, 10_000_000)
        chain.mine(2)
        wait_for("settled by the surviving instance", settled(survivor, second_intent))
        assert chain.balance(wallet) == 19_800_000
    finally:
        first.stop()
        second.stop()


def test_a_stuck_sweep_transaction_is_replaced_and_only_one_is_mined(tmp_path):
    chain = SandboxChain(tmp_path / "mempool-chain")
    chain.fee_wallet = random_address()
    gateway = start_gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path, chain, {"STABLEGATE_SWEEP_STUCK_AFTER": "1"}).start()
    try:
        wallet = random_address()
        merchant = setup_merchant(gateway, wallet)
        intent_id = create_intent(gateway, merchant)
        deposit = select_deposit(gateway, intent_id, chain)
        chain.pay(deposit, 10_000_000)
        wait_for("ON_CHAIN", lambda: show(gateway, intent_id)["intent"]["status"] == 10)
        chain.rpc("sandbox_holdTransactions", [True])  # the node stops mining what it receives
        chain.mine(2)
        # The gas top-up is broadcast, stays unmined, and after 1 s is replaced: same nonce, higher fee.
        data = wait_for("a replacement", lambda: (d := show(gateway, intent_id)) and
                        len([s for s in d["sweep_transactions"] if s["kind"] == "gas"]) >= 2 and d)
        gas = [s for s in data["sweep_transactions"] if s["kind"] == "gas"]
        assert len({s["nonce"] for s in gas}) == 1, gas
        assert len({s["tx_hash"] for s in gas}) == len(gas)
        held = chain.rpc("sandbox_heldTransactions")
        assert len(held) == 1 and held[0] == gas[-1]["tx_hash"], "the node keeps only the replacement"
        chain.rpc("sandbox_holdTransactions", [False])
        chain.rpc("sandbox_releaseTransactions")
        data = wait_for("settled", settled(gateway, intent_id))
        states = {s["tx_hash"]: s["state"] for s in data["sweep_transactions"] if s["kind"] == "gas"}
        assert sorted(states.values()).count("mined") == 1 and "replaced" in states.values(), states
        assert chain.balance(wallet) == 9_900_000
        assert chain.nonce(deposit) == 2
    finally:
        gateway.stop()
        chain.stop()
