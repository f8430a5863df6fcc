/* Guardian console: security keys (WebAuthn) in the browser, no inline script, no build step.
 *
 * A form marked data-key="get" (sign in, step up) or data-key="create" (register a key), when
 * sent with its data-key-button, first posts its CSRF token (and the user name, if it has one)
 * to data-key-options, hands the JSON options to navigator.credentials.get/create (turning the
 * base64url fields into bytes and back), puts the key's answer as JSON into the hidden
 * "credential" field and sends the form to data-key-action. The server answers with a page,
 * as for any form. What goes wrong is said in the page's #key-error box, never silently.
 */
(function () {
  "use strict";

  var MESSAGES = {
    unsupported: "This browser cannot use security keys. Use a code from your authenticator " +
      "app, or a browser that supports security keys.",
    NotAllowedError: "The security key did not answer, or it was refused or cancelled. Try " +
      "again, or use another key.",
    InvalidStateError: "This security key is already registered.",
    SecurityError: "Security keys do not work at this address. Open the console at its own " +
      "domain name.",
    AbortError: "The security key request was cancelled.",
    network: "The console could not be reached. Check your connection and try again.",
    other: "The security key could not be used here. Try again, or use another key."
  };

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (buffer === null || buffer === undefined) { return null; }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function decode(kind, options) {
    var o = Object.assign({}, options);
    o.challenge = toBytes(options.challenge);
    if (kind === "create") {
      o.user = Object.assign({}, options.user, { id: toBytes(options.user.id) });
      o.excludeCredentials = descriptors(options.excludeCredentials);
    } else {
      o.allowCredentials = descriptors(options.allowCredentials);
    }
    return o;
  }

  function encode(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  function show(message) {
    var box = document.getElementById("key-error");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
    box.focus();
  }

  function busy(form, on) {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = on; }
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function fetchOptions(form) {
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    if (form.elements.user) { body.set("user", form.elements.user.value); }
    return fetch(form.getAttribute("data-key-options"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": form.elements.csrf.value }
    }).catch(function () {
      throw { message: MESSAGES.network };
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (json) {
        if (!answer.ok || !json.publicKey) {
          throw { message: (json.error && json.error.message) || MESSAGES.other };
        }
        return json.publicKey;
      });
    });
  }

  function ceremony(form) {
    var kind = form.getAttribute("data-key");
    return fetchOptions(form).then(function (options) {
      var request = { publicKey: decode(kind, options) };
      var asked = kind === "create" ? navigator.credentials.create(request)
        : navigator.credentials.get(request);
      return asked.catch(function (error) {
        throw { message: MESSAGES[error && error.name] || MESSAGES.other };
      });
    }).then(function (credential) {
      if (!credential) { throw { message: MESSAGES.other }; }
      form.elements.credential.value = JSON.stringify(encode(credential));
      form.action = form.getAttribute("data-key-action");
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-key")) { return; }
    var submitter = event.submitter;
    if (!submitter || !submitter.hasAttribute("data-key-button")) { return; }
    event.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(MESSAGES.unsupported);
      return;
    }
    busy(form, true);
    ceremony(form).catch(function (problem) {
      busy(form, false);
      show((problem && problem.message) || MESSAGES.other);
    });
  });
}());
