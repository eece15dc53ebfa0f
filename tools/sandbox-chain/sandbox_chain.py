#!/usr/bin/env python3
"""StableGate's sandbox chains: real EVMs (py-evm through eth-tester) behind plain Ethereum JSON-RPC.

Two chains are served, each on its own port:

- "Sandbox" (chain id 131277322940537, py-evm's own): USDT and USDC with 6 decimals, plus an
  unconfigured decoy token "FAKEUSD" that the gateway must ignore;
- "Sandbox BSC" (chain id 131277322940538 reported): a BSC-style USDT with 18 decimals.

Every transaction is mined into its own block at once; `evm_mine` makes empty blocks (for
confirmations) and `evm_snapshot` / `evm_revert` make reorgs. The server keeps its own index of
receipts and logs as blocks are mined, because eth-tester's own lookups scan the whole chain,
and it fills in what eth-tester leaves out (`removed`, `logsBloom`, `yParity`), clamps a
`toBlock` past the head instead of failing, serialises access (the provider is not
thread-safe) and turns off Nagle for keep-alive clients.

At start it writes two files:
  --chains-file  the gateway's chains configuration (no secrets), for `stablegate serve --chains`
  --state-file   the funded test accounts and their (well-known) keys, for `stablegate sandbox pay`

    python sandbox_chain.py --port 8545 --chains-file .stablegate/sandbox-chains.json --state-file .stablegate/sandbox-state.json
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import rlp
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from eth_utils import keccak
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import to_checksum_address
import vyper

HERE = Path(__file__).resolve().parent
TOKEN_SOURCE = (HERE / "StableToken.vy").read_text()
TOKENS_PER_ACCOUNT = 1_000_000  # whole tokens given to every funded account
ZERO_BLOOM = "0x" + "00" * 256


def hexint(value):
    if isinstance(value, str):
        return hex(int(value, 16)) if value.startswith("0x") else hex(int(value))
    return hex(int(value))


def hexbytes(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    if isinstance(value, int):
        return "0x" + value.to_bytes(32, "big").hex()
    return value


class RPCError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class Chain:
    """One EVM with its index, behind a lock."""

    def __init__(self, chain_id, name, tokens, deployer_index=0):
        self.chain_id = chain_id
        self.name = name
        self.backend = PyEVMBackend()
        self.tester = EthereumTester(self.backend)
        self.lock = threading.RLock()
        self.receipts = {}   # tx hash -> receipt (JSON-RPC shape)
        self.blocks = {}     # number -> list of logs (JSON-RPC shape)
        self.indexed_to = -1
        # A tiny mempool for tests of stuck transactions: while holding, sent transactions wait
        # here, keyed by (sender, nonce); a replacement with >= 10 % higher fees supersedes.
        self.holding = False
        self.held = {}
        self.accounts = [
            {"address": to_checksum_address(a), "private_key": "0x" + bytes(k.to_bytes()).hex()}
            for a, k in zip(self.tester.get_accounts(), self.backend.account_keys)
        ]
        self.tokens = []
        compiled = vyper.compile_code(TOKEN_SOURCE, output_formats=["bytecode"])
        bytecode = bytes.fromhex(compiled["bytecode"][2:])
        # Different deployers give the chains' tokens different addresses, as on real networks.
        deployer = self.accounts[deployer_index]["address"]
        for token in tokens:
            supply = TOKENS_PER_ACCOUNT * 10 ** token["decimals"] * len(self.accounts)
            args = abi_encode(["string", "string", "uint8", "uint256"], [token["name"], token["symbol"], token["decimals"], supply])
            tx = self.tester.send_transaction({"from": deployer, "data": "0x" + (bytecode + args).hex(), "gas": 3_000_000, "value": 0})
            contract = to_checksum_address(self.tester.get_transaction_receipt(tx)["contract_address"])
            self.tokens.append({**token, "contract": contract})
            share = TOKENS_PER_ACCOUNT * 10 ** token["decimals"]
            for account in self.accounts:
                if account["address"] == deployer:
                    continue
                data = bytes.fromhex("a9059cbb") + abi_encode(["address", "uint256"], [account["address"], share])
                self.tester.send_transaction({"from": deployer, "to": contract, "data": "0x" + data.hex(), "gas": 100_000, "value": 0})
        self.index()

    # ---- index -------------------------------------------------------------------------
    def head(self):
        return self.tester.get_block_by_number("latest")["number"]

    def index(self):
        """Indexes receipts and logs of blocks mined since the last call."""
        head = self.head()
        for number in range(self.indexed_to + 1, head + 1):
            block = self.tester.get_block_by_number(number)
            logs = []
            cumulative = 0
            for position, tx_hash in enumerate(block["transactions"]):
                raw = self.tester.get_transaction_receipt(tx_hash)
                tx = self.tester.get_transaction_by_hash(tx_hash)
                cumulative += raw["gas_used"]
                receipt_logs = []
                for log in raw["logs"]:
                    entry = {
                        "address": to_checksum_address(log["address"]),
                        "topics": [hexbytes(t) for t in log["topics"]],
                        "data": hexbytes(log["data"]),
                        "blockNumber": hexint(number),
                        "blockHash": hexbytes(block["hash"]),
                        "transactionHash": hexbytes(tx_hash),
                        "transactionIndex": hexint(position),
                        "logIndex": hexint(len(logs)),
                        "removed": False,
                    }
                    logs.append(entry)
                    receipt_logs.append(entry)
                self.receipts[hexbytes(tx_hash)] = {
                    "transactionHash": hexbytes(tx_hash),
                    "transactionIndex": hexint(position),
                    "blockHash": hexbytes(block["hash"]),
                    "blockNumber": hexint(number),
                    "from": to_checksum_address(tx["from"]),
                    "to": to_checksum_address(tx["to"]) if tx.get("to") else None,
                    "cumulativeGasUsed": hexint(cumulative),
                    "gasUsed": hexint(raw["gas_used"]),
                    "effectiveGasPrice": hexint(raw.get("effective_gas_price") or tx.get("gas_price") or 0),
                    "contractAddress": to_checksum_address(raw["contract_address"]) if raw.get("contract_address") else None,
                    "logs": receipt_logs,
                    "logsBloom": ZERO_BLOOM,
                    "status": hexint(raw["status"]),
                    "type": hexint(raw.get("type", 0) or 0),
                }
            self.blocks[number] = logs
        self.indexed_to = head

    def forget_above(self, number):
        """Drops index entries of blocks a revert removed."""
        for n in [n for n in self.blocks if n > number]:
            for log in self.blocks.pop(n):
                self.receipts.pop(log["transactionHash"], None)
        for tx_hash in [h for h, r in self.receipts.items() if int(r["blockNumber"], 16) > number]:
            del self.receipts[tx_hash]
        self.indexed_to = min(self.indexed_to, number)

    # ---- JSON-RPC ------------------------------------------------------------------------
    def block_number_param(self, value):
        if value in (None, "latest", "pending", "safe", "finalized"):
            return self.head()
        if value == "earliest":
            return 0
        return int(value, 16)

    def format_block(self, block, full):
        transactions = block["transactions"]
        if full:
            transactions = [self.format_transaction(self.tester.get_transaction_by_hash(h)) for h in transactions]
        else:
            transactions = [hexbytes(h) for h in transactions]
        return {
            "number": hexint(block["number"]),
            "hash": hexbytes(block["hash"]),
            "parentHash": hexbytes(block["parent_hash"]),
            "nonce": hexbytes(block["nonce"]),
            "sha3Uncles": hexbytes(block["sha3_uncles"]),
            "logsBloom": ZERO_BLOOM,
            "transactionsRoot": hexbytes(block["transactions_root"]),
            "stateRoot": hexbytes(block["state_root"]),
            "receiptsRoot": hexbytes(block["receipts_root"]),
            "miner": to_checksum_address(block["coinbase"]),
            "difficulty": hexint(block["difficulty"]),
            "totalDifficulty": hexint(block.get("total_difficulty", 0) or 0),
            "extraData": hexbytes(block["extra_data"]),
            "size": hexint(block["size"]),
            "gasLimit": hexint(block["gas_limit"]),
            "gasUsed": hexint(block["gas_used"]),
            "timestamp": hexint(block["timestamp"]),
            "baseFeePerGas": hexint(block.get("base_fee_per_gas", 0) or 0),
            "transactions": transactions,
            "uncles": [],
        }

    def format_transaction(self, tx):
        out = {
            "hash": hexbytes(tx["hash"]),
            "nonce": hexint(tx["nonce"]),
            "blockHash": hexbytes(tx["block_hash"]) if tx.get("block_hash") else None,
            "blockNumber": hexint(tx["block_number"]) if tx.get("block_number") is not None else None,
            "transactionIndex": hexint(tx["transaction_index"]) if tx.get("transaction_index") is not None else None,
            "from": to_checksum_address(tx["from"]),
            "to": to_checksum_address(tx["to"]) if tx.get("to") else None,
            "value": hexint(tx["value"]),
            "gas": hexint(tx["gas"]),
            "input": hexbytes(tx["data"]),
            "chainId": hexint(self.chain_id),
            "type": hexint(tx.get("type", 0) or 0),
            "v": hexint(tx.get("v", 0)),
            "r": hexint(tx.get("r", 0)),
            "s": hexint(tx.get("s", 0)),
        }
        for key, rpc in (("gas_price", "gasPrice"), ("max_fee_per_gas", "maxFeePerGas"), ("max_priority_fee_per_gas", "maxPriorityFeePerGas")):
            if tx.get(key) is not None:
                out[rpc] = hexint(tx[key])
        if "y_parity" in tx:
            out["yParity"] = hexint(tx["y_parity"])
        return out

    def call_params(self, params):
        """A node charges nothing for eth_call/eth_estimateGas; eth-tester bills the sender, so
        calls without a sender run as a funded account, with a gas cap."""
        tx = params[0]
        out = {}
        for rpc, key in (("from", "from"), ("to", "to"), ("data", "data"), ("input", "data")):
            if tx.get(rpc):
                out[key] = tx[rpc]
        for rpc, key in (("value", "value"), ("gas", "gas")):
            if tx.get(rpc):
                out[key] = int(tx[rpc], 16)
        out.setdefault("value", 0)
        out.setdefault("gas", 10_000_000)
        if "from" not in out:
            out["from"] = self.accounts[0]["address"]
        return out

    def dispatch(self, method, params):
        t = self.tester
        if method == "eth_chainId":
            return hexint(self.chain_id)
        if method == "net_version":
            return str(self.chain_id)
        if method == "web3_clientVersion":
            return "StableGate-sandbox/py-evm"
        if method == "eth_blockNumber":
            return hexint(self.head())
        if method == "eth_gasPrice":
            return hexint(t.get_block_by_number("latest").get("base_fee_per_gas", 10**9) + 10**9)
        if method == "eth_maxPriorityFeePerGas":
            return hexint(10**9)
        if method == "eth_getBalance":
            return hexint(t.get_balance(params[0]))
        if method == "eth_getTransactionCount":
            nonce = t.get_nonce(params[0])
            if len(params) > 1 and params[1] == "pending":
                while (params[0].lower(), nonce) in self.held:
                    nonce += 1
            return hexint(nonce)
        if method == "eth_getCode":
            return hexbytes(t.get_code(params[0]))
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            try:
                if method == "eth_getBlockByHash":
                    block = t.get_block_by_hash(params[0])
                else:
                    number = self.block_number_param(params[0])
                    if number > self.head():
                        return None
                    block = t.get_block_by_number(number)
            except Exception:
                return None
            return self.format_block(block, bool(params[1]) if len(params) > 1 else False)
        if method == "eth_getTransactionByHash":
            try:
                return self.format_transaction(t.get_transaction_by_hash(params[0]))
            except Exception:
                return None
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(params[0].lower())
        if method == "eth_getLogs":
            return self.get_logs(params[0] if params else {})
        if method == "eth_call":
            try:
                return hexbytes(t.call(self.call_params(params)))
            except TransactionFailed as error:
                raise RPCError(3, f"execution reverted: {error}")
        if method == "eth_estimateGas":
            try:
                return hexint(t.estimate_gas(self.call_params(params)))
            except TransactionFailed as error:
                raise RPCError(3, f"execution reverted: {error}")
        if method == "eth_accounts":
            return [a["address"] for a in self.accounts]
        if method == "eth_sendTransaction":
            # Like dev nodes (Hardhat, Anvil): the funded test accounts are unlocked, so a test
            # wallet in a browser can ask the node to sign for them.
            return self.send_as_test_account(params[0])
        if method == "sandbox_holdTransactions":
            self.holding = bool(params[0])
            return self.holding
        if method == "sandbox_releaseTransactions":
            released = []
            for (_, _), (raw, _, _) in sorted(self.held.items(), key=lambda item: item[0][1]):
                released.append(hexbytes(t.send_raw_transaction(raw)))
            self.held.clear()
            self.index()
            return released
        if method == "sandbox_heldTransactions":
            return [tx_hash for (_, (_, tx_hash, _)) in self.held.items()]
        if method == "eth_sendRawTransaction" and self.holding:
            return self.hold(params[0])
        if method == "eth_sendRawTransaction":
            raw = params[0]
            try:
                tx_hash = t.send_raw_transaction(raw)
            except Exception as error:
                message = str(error)
                if "already" in message.lower() or "known" in message.lower():
                    raise RPCError(-32000, "already known")
                raise RPCError(-32000, message)
            self.index()
            return hexbytes(tx_hash)
        if method == "evm_mine":
            count = int(params[0], 16) if params and isinstance(params[0], str) else (params[0] if params else 1)
            t.mine_blocks(count)
            self.index()
            return hexint(self.head())
        if method == "evm_snapshot":
            return hexint(t.take_snapshot())
        if method == "evm_revert":
            snapshot = int(params[0], 16) if isinstance(params[0], str) else params[0]
            t.revert_to_snapshot(snapshot)
            self.forget_above(self.head())
            return True
        raise RPCError(-32601, f"method {method} not supported")

    def send_as_test_account(self, request):
        sender = to_checksum_address(request["from"])
        account = next((a for a in self.accounts if a["address"] == sender), None)
        if account is None:
            raise RPCError(-32000, f"{sender} is not an unlocked sandbox account")
        latest = self.tester.get_block_by_number("latest")
        tx = {
            "type": 2, "chainId": self.chain_id, "nonce": self.tester.get_nonce(sender), "to": to_checksum_address(request["to"]),
            "value": int(request.get("value", "0x0"), 16), "data": request.get("data") or request.get("input") or "0x",
            "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 2 * (latest.get("base_fee_per_gas") or 10**9) + 10**9,
        }
        tx["gas"] = int(request["gas"], 16) if request.get("gas") else self.tester.estimate_gas({
            "from": sender, "to": tx["to"], "data": tx["data"], "value": tx["value"]}) * 5 // 4
        raw = "0x" + Account.sign_transaction(tx, account["private_key"]).raw_transaction.hex()
        return self.dispatch("eth_sendRawTransaction", [raw])

    def hold(self, raw):
        """Keeps a transaction pending, as a congested node would."""
        data = bytes.fromhex(raw[2:])
        sender = Account.recover_transaction(raw)
        if data[0] < 0x80:  # typed (EIP-2718)
            fields = TypedTransaction.from_bytes(HexBytes(data)).as_dict()
            nonce, fee = fields["nonce"], fields.get("maxFeePerGas", fields.get("gasPrice", 0))
        else:
            decoded = rlp.decode(data)
            nonce, fee = int.from_bytes(decoded[0], "big"), int.from_bytes(decoded[1], "big")
        if nonce < self.tester.get_nonce(sender):
            raise RPCError(-32000, "nonce too low")
        tx_hash = "0x" + keccak(data).hex()
        key = (sender.lower(), nonce)
        if key in self.held:
            _, existing_hash, existing_fee = self.held[key]
            if existing_hash == tx_hash:
                raise RPCError(-32000, "already known")
            if fee * 10 < existing_fee * 11:
                raise RPCError(-32000, "replacement transaction underpriced")
        self.held[key] = (raw, tx_hash, fee)
        return tx_hash

    def get_logs(self, criteria):
        head = self.head()
        if criteria.get("blockHash"):
            block = self.tester.get_block_by_hash(criteria["blockHash"])
            start = end = block["number"]
        else:
            start = self.block_number_param(criteria.get("fromBlock", "latest"))
            end = min(self.block_number_param(criteria.get("toBlock", "latest")), head)
        addresses = criteria.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        addresses = {a.lower() for a in addresses} if addresses else None
        topic_filters = criteria.get("topics") or []
        out = []
        for number in range(start, end + 1):
            for log in self.blocks.get(number, []):
                if addresses is not None and log["address"].lower() not in addresses:
                    continue
                if not self.topics_match(log["topics"], topic_filters):
                    continue
                out.append(log)
        return out

    @staticmethod
    def topics_match(topics, filters):
        for position, wanted in enumerate(filters):
            if wanted is None:
                continue
            if position >= len(topics):
                return False
            options = wanted if isinstance(wanted, list) else [wanted]
            if topics[position].lower() not in [o.lower() for o in options]:
                return False
        return True


def make_handler(chain):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def do_OPTIONS(self):
            # CORS preflight: browser test wallets call the node from the page's origin, as
            # dev nodes allow.
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "content-type")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            try:
                request = json.loads(self.rfile.read(length))
            except ValueError:
                return self.reply({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            if isinstance(request, list):
                return self.reply([self.handle_one(r) for r in request])
            return self.reply(self.handle_one(request))

        def handle_one(self, request):
            ident = request.get("id")
            try:
                with chain.lock:
                    result = chain.dispatch(request.get("method"), request.get("params") or [])
                return {"jsonrpc": "2.0", "id": ident, "result": result}
            except RPCError as error:
                body = {"code": error.code, "message": error.message}
                return {"jsonrpc": "2.0", "id": ident, "error": body}
            except Exception as error:  # a bug or an unexpected eth-tester failure: tell the client
                return {"jsonrpc": "2.0", "id": ident, "error": {"code": -32603, "message": f"{type(error).__name__}: {error}"}}

        def reply(self, payload):
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545, help="first chain's port; the BSC-style chain uses port + 1")
    parser.add_argument("--chains-file", required=True)
    parser.add_argument("--state-file", required=True)
    parser.add_argument("--confirmations", type=int, default=3)
    parser.add_argument("--poll-interval-ms", type=int, default=500)
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the process that started this one exits (test runs)")
    args = parser.parse_args()
    if args.exit_with_parent:
        parent = os.getppid()

        def watch_parent():
            while os.getppid() == parent:
                threading.Event().wait(1)
            os._exit(0)

        threading.Thread(target=watch_parent, daemon=True).start()

    definitions = [
        (131277322940537, "Sandbox", 0, [
            {"name": "Tether USD (sandbox)", "symbol": "USDT", "decimals": 6, "stable_coin": 1},
            {"name": "USD Coin (sandbox)", "symbol": "USDC", "decimals": 6, "stable_coin": 2},
            {"name": "Fake USD (not configured)", "symbol": "FAKEUSD", "decimals": 6, "stable_coin": None},
        ]),
        (131277322940538, "Sandbox BSC", 8, [
            {"name": "Binance-Peg BSC-USD (sandbox)", "symbol": "USDT", "decimals": 18, "stable_coin": 1},
        ]),
    ]
    chains, servers = [], []
    for offset, (chain_id, name, deployer_index, tokens) in enumerate(definitions):
        chain = Chain(chain_id, name, tokens, deployer_index)
        server = ThreadingHTTPServer((args.host, args.port + offset), make_handler(chain))
        server.daemon_threads = True
        chains.append((chain, server))
        servers.append(server)

    config = {"chains": []}
    state = {"chains": []}
    for chain, server in chains:
        rpc_url = f"http://{args.host}:{server.server_address[1]}"
        config["chains"].append({
            "chain_id": chain.chain_id,
            "name": chain.name,
            "rpc_url": rpc_url,
            "confirmations": args.confirmations,
            "max_log_range": 500,
            "poll_interval_ms": args.poll_interval_ms,
            "explorer_tx_url": "",
            "tokens": [
                {"stable_coin": t["stable_coin"], "contract": t["contract"], "decimals": t["decimals"], "symbol": t["symbol"]}
                for t in chain.tokens if t["stable_coin"] is not None
            ],
        })
        state["chains"].append({
            "chain_id": chain.chain_id,
            "rpc_url": rpc_url,
            "accounts": chain.accounts,
            "tokens": chain.tokens,
        })
    for path, content in ((args.chains_file, config), (args.state_file, state)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(json.dumps(content, indent=2) + "\n")
        os.replace(tmp, path)

    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"sandbox chains ready: " + ", ".join(f"{c.name} ({c.chain_id}) on {s.server_address[1]}" for c, s in chains), flush=True)
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
