// A test EIP-1193 wallet, injected into the checkout page the way wallet extensions inject
// window.ethereum. It holds one sandbox account and forwards calls to the sandbox chain, whose
// node signs for its funded test accounts (as dev nodes do). Configuration comes from
// window.__SANDBOX_WALLET__ = {account, chainId, chains: {"0x…": rpcUrl}}, set before this runs.
(function () {
  var config = window.__SANDBOX_WALLET__;
  var current = config.chainId;
  var listeners = {};
  window.__walletCalls = [];
  function rpc(method, params) {
    var url = config.chains[current];
    return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: method, params: params || [] }) })
      .then(function (response) { return response.json(); })
      .then(function (reply) {
        if (reply.error) { var error = new Error(reply.error.message); error.code = reply.error.code; throw error; }
        return reply.result;
      });
  }
  window.ethereum = {
    isStableGateTestWallet: true,
    request: function (args) {
      var method = args.method, params = args.params || [];
      window.__walletCalls.push(method);
      switch (method) {
        case 'eth_requestAccounts': case 'eth_accounts': return Promise.resolve([config.account]);
        case 'eth_chainId': return Promise.resolve(current);
        case 'wallet_switchEthereumChain':
          var wanted = params[0].chainId.toLowerCase();
          if (!config.chains[wanted]) { var error = new Error('Unrecognized chain ID'); error.code = 4902; return Promise.reject(error); }
          current = wanted;
          (listeners.chainChanged || []).forEach(function (fn) { fn(wanted); });
          return Promise.resolve(null);
        case 'wallet_addEthereumChain':
          config.chains[params[0].chainId.toLowerCase()] = params[0].rpcUrls[0];
          return Promise.resolve(null);
        default: return rpc(method, params);
      }
    },
    on: function (event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener: function () {}
  };
})();
