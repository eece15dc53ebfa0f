// StableGate hosted checkout: progressive enhancement only. Without this script the page still
// works (wallet scan, forms, auto-refresh); with it you get copy buttons, a live countdown,
// live status with back-off, and paying from an injected EIP-1193 wallet.
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var root = document.getElementById('checkout');
  if (!root) return;
  var path = root.getAttribute('data-path');
  var status = Number(root.getAttribute('data-status'));
  var csrf = root.getAttribute('data-csrf');
  var terminal = [20, -1, -2, -3, -4];

  // Copy buttons.
  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy')).then(function () {
        button.textContent = button.getAttribute('data-copied') || '✓';
        announce(button.getAttribute('data-copied') || '');
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });

  function announce(text) {
    var live = document.getElementById('live-status');
    if (live && text) live.textContent = text;
  }

  // Countdown, from the server's seconds-left (so a wrong client clock does not matter).
  var countdown = document.getElementById('countdown');
  if (countdown) {
    var end = Date.now() + Number(countdown.getAttribute('data-seconds-left')) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      countdown.textContent = minutes + ':' + (seconds < 10 ? '0' : '') + seconds;
      if (left === 0) { clearInterval(timer); setTimeout(function () { location.reload(); }, 1500); }
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  // Live status: poll with back-off (2 s, growing to 10 s; back to 2 s after any change).
  var delay = 2000, lastSeen = '';
  function poll() {
    fetch(path + '/state', { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.json(); })
      .then(function (envelope) {
        var state = envelope && envelope.payload;
        if (!state) return;
        if (state.status !== status) { location.reload(); return; }
        var fingerprint = JSON.stringify([state.confirmations, state.paid_amount, state.pending_amount]);
        if (fingerprint !== lastSeen) { delay = 2000; lastSeen = fingerprint; } else { delay = Math.min(10000, delay * 1.5); }
        var confirmations = document.getElementById('confirmations');
        if (confirmations && state.confirmations && state.confirmations.current !== null) {
          confirmations.textContent = confirmations.getAttribute('data-template')
            .replace('{current}', state.confirmations.current).replace('{required}', state.confirmations.required);
          var bar = document.querySelector('progress');
          if (bar) bar.value = state.confirmations.current;
        }
      })
      .catch(function () { delay = Math.min(10000, delay * 2); })
      .then(function () { setTimeout(poll, delay); });
  }
  if (terminal.indexOf(status) === -1) setTimeout(poll, delay);

  // Paying from a browser wallet (EIP-1193: MetaMask, Trust Wallet and others inject window.ethereum).
  var panel = document.getElementById('wallet-panel');
  var button = document.getElementById('wallet-pay');
  var walletStatus = document.getElementById('wallet-status');
  if (!panel || !button) return;
  panel.hidden = false;
  var ethereum = window.ethereum;
  if (!ethereum || typeof ethereum.request !== 'function') {
    button.hidden = true;
    walletStatus.textContent = panel.getAttribute('data-no-provider');
    return;
  }
  var chainId = root.getAttribute('data-chain-id');
  var say = function (text) { walletStatus.textContent = text; };
  function pad(hex) { hex = hex.replace(/^0x/, ''); return new Array(65 - hex.length).join('0') + hex; }

  function switchChain() {
    return ethereum.request({ method: 'eth_chainId' }).then(function (current) {
      if (String(current).toLowerCase() === chainId) return;
      return ethereum.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: chainId }] }).catch(function (error) {
        var rpc = root.getAttribute('data-rpc-url');
        if (error && error.code === 4902 && rpc) {
          return ethereum.request({
            method: 'wallet_addEthereumChain',
            params: [{
              chainId: chainId, chainName: root.getAttribute('data-chain-name'), rpcUrls: [rpc],
              nativeCurrency: {
                name: root.getAttribute('data-native-name') || 'Ether', symbol: root.getAttribute('data-native-symbol') || 'ETH', decimals: 18
              }
            }]
          });
        }
        throw new Error(panel.getAttribute('data-switch'));
      });
    });
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    say(panel.getAttribute('data-confirm'));
    var from;
    ethereum.request({ method: 'eth_requestAccounts' })
      .then(function (accounts) { from = accounts[0]; return switchChain(); })
      .then(function () {
        var data = '0xa9059cbb' + pad(root.getAttribute('data-deposit').toLowerCase()) + pad(root.getAttribute('data-units'));
        return ethereum.request({ method: 'eth_sendTransaction', params: [{ from: from, to: root.getAttribute('data-token'), data: data, value: '0x0' }] });
      })
      .then(function (hash) {
        say(panel.getAttribute('data-sent') + ' ' + hash);
        return fetch(path + '/wallet-tx', {
          method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
          body: JSON.stringify({ tx_hash: hash, from: from })
        });
      })
      .then(function () { delay = 1000; })
      .catch(function (error) {
        button.disabled = false;
        say(panel.getAttribute('data-error').replace('{reason}', (error && error.message) || String(error)));
      });
  });
}());
