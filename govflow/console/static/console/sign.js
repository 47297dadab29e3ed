/* Signing in the browser with WebCrypto Ed25519 (no library, nothing fetched).
 *
 * The key: generated here (or imported from a PKCS#8 PEM file) and stored in this
 * browser's IndexedDB as a non-extractable CryptoKey, one per user name. Its public
 * half is registered through the keys form like any other key.
 *
 * Signing: the server prepared the statement's exact payload bytes; we sign the DSSE
 * pre-authentication encoding PAE(payloadType, payload) and submit the envelope through
 * the same form a command-line envelope goes through. Pages work without this script.
 */
(function () {
  "use strict";
  var DB = "govflow-console", STORE = "keys";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(request && request.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  var getKey = function (user) { return withStore("readonly", function (s) { return s.get(user); }); };
  var putKey = function (user, rec) { return withStore("readwrite", function (s) { return s.put(rec, user); }); };

  function b64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }
  function unb64(text) {
    var raw = atob(text.replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, "")), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  function keyId(rawPublic) { return crypto.subtle.digest("SHA-256", rawPublic).then(hex); }

  /* DSSE v1: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
  function pae(payloadType, payload) {
    var enc = new TextEncoder(), type = enc.encode(payloadType);
    var head = enc.encode("DSSEv1 " + type.length + " " + payloadType + " " + payload.length + " ");
    var out = new Uint8Array(head.length + payload.length);
    out.set(head, 0); out.set(payload, head.length);
    return out;
  }

  function supported() {
    if (!window.isSecureContext || !window.crypto || !crypto.subtle || !window.indexedDB) {
      return Promise.resolve(false);
    }
    return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])
      .then(function () { return true; }, function () { return false; });
  }

  function remember(user, privateKey, rawPublic) {
    return keyId(rawPublic).then(function (id) {
      var rec = { privateKey: privateKey, publicKey: b64(rawPublic), keyId: id, created: new Date().toISOString() };
      return putKey(user, rec).then(function () { return rec; });
    });
  }

  function generate(user) {
    return crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]).then(function (pair) {
      return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
        return remember(user, pair.privateKey, raw);
      });
    });
  }

  function importPem(user, text) {
    var body = text.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
    var der = unb64(body);
    // Import once extractable, only to read the public half (JWK "x"); keep a
    // non-extractable copy for signing.
    return crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]).then(function (k) {
      return crypto.subtle.exportKey("jwk", k);
    }).then(function (jwk) {
      return crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]).then(function (k) {
        return remember(user, k, unb64(jwk.x));
      });
    });
  }

  function keysPage(owner) {
    var panel = document.getElementById("browser-keys");
    var info = document.getElementById("browser-key-info");
    var field = document.getElementById("public-key");
    var registered = Array.prototype.map.call(document.querySelectorAll("code.key-id"), function (c) { return c.textContent.trim(); });
    function show(rec) {
      if (!rec) return;
      var known = registered.indexOf(rec.keyId) >= 0;
      info.textContent = "This browser holds key " + rec.keyId + (known ? " (registered)." : " — not registered yet: register it below.");
      info.className = known ? "ok" : "warn";
      if (!known) field.value = rec.publicKey;
    }
    supported().then(function (ok) {
      if (!ok) return;
      panel.hidden = false;
      getKey(owner).then(show);
      document.getElementById("generate-key").addEventListener("click", function () {
        generate(owner).then(show, function (e) { info.textContent = "Could not generate a key: " + e; });
      });
      document.getElementById("import-key").addEventListener("change", function (ev) {
        var file = ev.target.files[0];
        if (!file) return;
        file.text().then(function (t) { return importPem(owner, t); }).then(show, function (e) {
          info.textContent = "Could not import the key: " + e;
        });
      });
    });
  }

  function signPage(request) {
    var panel = document.getElementById("browser-signing");
    var status = document.getElementById("browser-key-status");
    var button = document.getElementById("sign-in-browser");
    supported().then(function (ok) {
      if (!ok) return;
      panel.hidden = false;
      getKey(request.user).then(function (rec) {
        if (!rec) {
          status.innerHTML = 'No key in this browser for you yet: <a href="/console/keys/">create or import one</a>.';
          return;
        }
        status.textContent = "Key " + rec.keyId.slice(0, 16) + "… is held by this browser.";
        button.disabled = false;
        button.addEventListener("click", function () {
          button.disabled = true;
          var payload = unb64(request.payload);
          crypto.subtle.sign({ name: "Ed25519" }, rec.privateKey, pae(request.payloadType, payload)).then(function (sig) {
            var envelope = { payload: request.payload, payloadType: request.payloadType,
                             signatures: [{ keyid: rec.keyId, sig: b64(sig) }] };
            document.getElementById("envelope").value = JSON.stringify(envelope);
            document.getElementById("envelope-form").submit();
          }, function (e) { status.textContent = "Signing failed: " + e; button.disabled = false; });
        });
      });
    });
  }

  var signing = document.getElementById("signing-request");
  if (signing) signPage(JSON.parse(signing.textContent));
  var owner = document.getElementById("key-owner");
  if (owner) keysPage(JSON.parse(owner.textContent).user);
})();
