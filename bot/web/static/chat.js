// Safe Abroad chat page: talks to /api/v1, renders every bot text with textContent.
//
// Only sessionStorage is used (the conversation id, its token, the language and when it was
// last used). sessionStorage outlives a reload, Back and "reopen closed tab", so a saved chat
// resumes only if it was used in the last IDLE_MINUTES; after that the page starts afresh
// (and the server has closed it too, after WEB_IDLE_MINUTES). Quick exit (button or Shift three times) erases the
// conversation on the server, clears storage and replaces the page with a neutral site.
(() => {
  "use strict";

  const STORE_KEY = "safe-abroad";
  const NEUTRAL_SITE = "https://www.google.com/";
  const API = "/api/v1/conversations";
  const KINDS = ["info", "question", "result", "handoff"];
  const IDLE_MINUTES = 30;

  const body = document.body;
  const STRINGS = JSON.parse(body.dataset.strings || "{}");
  const LANGUAGE_NAMES = JSON.parse(body.dataset.languages || "{}");
  const params = new URLSearchParams(location.search);
  const hostOrigin = embeddingOrigin();

  const log = document.getElementById("chat-log");
  const form = document.getElementById("composer");
  const input = document.getElementById("chat-input");
  const sendButton = form.querySelector("[data-testid=chat-send]");
  const picker = document.getElementById("language");
  const privacyLink = document.getElementById("privacy-link");

  const state = { lang: body.dataset.lang || "en", conversation: null, busy: false };

  // -- small helpers ------------------------------------------------------------------

  function t(key) {
    const table = STRINGS[state.lang] || STRINGS.en || {};
    return table[key] || (STRINGS.en || {})[key] || "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function embeddingOrigin() {
    if (window.parent === window || params.get("embed") !== "1") return null;
    try {
      const url = new URL(params.get("host") || "");
      return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
    } catch (_error) {
      return null;
    }
  }

  function tellHost(type) {
    if (hostOrigin) window.parent.postMessage({ source: "safe-abroad", type }, hostOrigin);
  }

  // -- storage: sessionStorage only ---------------------------------------------------

  function load() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      const fresh =
        saved && typeof saved.savedAt === "number" && Date.now() - saved.savedAt < IDLE_MINUTES * 60000;
      if (typeof saved?.id !== "string" || typeof saved.token !== "string") return null;
      if (!fresh) {
        // An old chat someone else might find: do not show it, erase it on the server.
        sessionStorage.removeItem(STORE_KEY);
        return { id: saved.id, token: saved.token, stale: true };
      }
      return saved;
    } catch (_error) {
      // Storage may be blocked; the chat still works for this page view.
    }
    return null;
  }

  function save() {
    try {
      if (state.conversation) {
        const { id, token } = state.conversation;
        const savedAt = Date.now();
        sessionStorage.setItem(STORE_KEY, JSON.stringify({ id, token, lang: state.lang, savedAt }));
      }
    } catch (_error) {
      // Not being able to remember only costs the reload feature.
    }
  }

  function forget() {
    state.conversation = null;
    try {
      sessionStorage.clear();
    } catch (_error) {
      // Nothing stored, nothing to clear.
    }
  }

  // -- language -----------------------------------------------------------------------

  function applyStrings() {
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll("[data-i18n-title]")) {
      node.title = t(node.dataset.i18nTitle);
    }
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const node of document.querySelectorAll("[data-i18n-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nLabel));
    }
    picker.value = state.lang;
    privacyLink.href = "/privacy?lang=" + encodeURIComponent(state.lang);
  }

  function setLanguage(lang) {
    if (!STRINGS[lang]) return;
    state.lang = lang;
    applyStrings();
    save();
  }

  // -- talking to the server ----------------------------------------------------------

  function conversationPath() {
    return API + "/" + encodeURIComponent(state.conversation.id);
  }

  async function call(method, path, payload) {
    const headers = { Accept: "application/json", "Accept-Language": state.lang };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    if (state.conversation && path !== API) {
      headers.Authorization = "Bearer " + state.conversation.token;
    }
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch (_error) {
      return { status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_error) {
      data = null;
    }
    return { status: response.status, data };
  }

  function setBusy(busy) {
    state.busy = busy;
    log.setAttribute("aria-busy", busy ? "true" : "false");
    sendButton.disabled = busy;
  }

  async function begin(takeFocus) {
    const payload = {};
    const explicit = body.dataset.explicitLang || (picker.dataset.touched ? picker.value : "");
    if (explicit) payload.lang = explicit;
    if (body.dataset.campaign) payload.campaign = body.dataset.campaign;
    setBusy(true);
    const result = await call("POST", API, payload);
    setBusy(false);
    if (result.status !== 201) {
      showProblem(result);
      return false;
    }
    state.conversation = { id: result.data.id, token: result.data.token };
    setLanguage(result.data.lang);
    save();
    show(result.data.messages, takeFocus);
    return true;
  }

  async function resume() {
    setBusy(true);
    const result = await call("GET", conversationPath());
    setBusy(false);
    if (result.status === 200) {
      setLanguage(result.data.lang);
      show(result.data.messages);
      return;
    }
    if (result.status === 401) {
      forget();
      await begin();
      return;
    }
    showProblem(result);
  }

  async function send(payload, echo) {
    if (state.busy) return;
    if (!state.conversation && !(await begin())) return;
    if (echo) addUserMessage(echo);
    setBusy(true);
    const result = await call("POST", conversationPath() + "/messages", payload);
    setBusy(false);
    if (result.status === 200) {
      setLanguage(result.data.lang);
      show(result.data.messages);
    } else if (result.status === 401) {
      forget();
      showStatus(t("error_gone"), true);
    } else {
      showProblem(result);
    }
  }

  // -- rendering (text only: nothing from the server is ever parsed as HTML) ----------

  // Old buttons go when new ones come. While a counsellor chat is open, its "End chat"
  // stays (moved below the newest message) through the messages that bring no buttons of
  // their own: the person's forwarded text and the counsellor's answers; leaving must stay
  // one tap away.
  function dropOldChoices(keepRelay) {
    let kept = null;
    for (const group of log.querySelectorAll(".choices")) {
      if (keepRelay && group.dataset.relay) kept = group;
      group.remove();
    }
    return kept;
  }

  function relayOpen() {
    return log.querySelector(".choices[data-relay]") !== null;
  }

  // Focus follows the conversation only when it was in it (a pressed choice), so the
  // first Tab on a fresh page still reaches quick exit first.
  // -- live answers from a counsellor (server-sent events, read with fetch so the token
  // travels in a header, never in a URL) ------------------------------------------------

  const live = { running: false, lastId: "" };

  // Listen while the page shows an open chat (its "End chat" button), and only then.
  async function listen() {
    if (!state.conversation) return;
    live.running = true;
    const conversation = state.conversation;
    while (live.running && state.conversation === conversation && relayOpen()) {
      const headers = {
        Accept: "text/event-stream",
        Authorization: "Bearer " + conversation.token,
      };
      if (live.lastId) headers["Last-Event-ID"] = live.lastId;
      let ended = false;
      try {
        const response = await fetch(conversationPath() + "/events", {
          headers,
          cache: "no-store",
          credentials: "omit",
          referrerPolicy: "no-referrer",
        });
        if (!response.ok || !response.body) break;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = { id: "", type: "message", data: "" };
            for (const line of block.split("\n")) {
              if (line.startsWith("id: ")) event.id = line.slice(4);
              else if (line.startsWith("event: ")) event.type = line.slice(7);
              else if (line.startsWith("data: ")) event.data += line.slice(6);
            }
            if (event.type === "end") ended = true;
            if (event.type === "message" && event.data) {
              if (event.id && Number(event.id) <= Number(live.lastId || 0)) continue;
              if (event.id) live.lastId = event.id;
              show(JSON.parse(event.data).messages);
            }
          }
          if (ended) break;
        }
      } catch (_error) {
        // the connection dropped: try again shortly
      }
      if (ended) {
        // That chat closed. A next chat numbers its messages from 1 again, so forget the
        // last number seen, or its first answers would be taken for repeats and dropped.
        live.lastId = "";
        if (!relayOpen()) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    live.running = false;
  }

  function show(messages, takeFocus) {
    const hadFocusInLog = takeFocus || log.contains(document.activeElement);
    const bringsChoices = (messages || []).some((m) => m.choices && m.choices.length);
    const keptRelay = dropOldChoices(!bringsChoices);
    let first = null;
    let lastChoices = null;
    for (const message of messages || []) {
      const node = botMessage(message);
      log.append(node);
      first = first || node;
      if (message.choices && message.choices.length) {
        lastChoices = choiceGroup(message.choices);
        log.append(lastChoices);
      }
    }
    if (keptRelay) log.append(keptRelay);
    if (relayOpen() && !live.running) listen();
    if (first) log.scrollTop = Math.max(0, first.offsetTop - 12);
    if (hadFocusInLog) {
      const target = lastChoices ? lastChoices.querySelector("button") : input;
      target.focus({ preventScroll: true });
    }
    return lastChoices;
  }

  function botMessage(message) {
    const kind = KINDS.includes(message.kind) ? message.kind : "info";
    const node = element("div", "msg bot kind-" + kind);
    node.setAttribute("data-testid", "message");
    node.append(element("p", "text", String(message.text || "")));
    const contacts = message.contacts || [];
    if (contacts.length) {
      const list = element("ul", "contacts");
      for (const contact of contacts) list.append(contactCard(contact));
      node.append(list);
    }
    return node;
  }

  function contactCard(contact) {
    const card = element("li", "contact");
    card.setAttribute("data-testid", "contact");
    card.append(element("p", "contact-name", String(contact.name || "")));
    if (contact.note) card.append(element("p", "detail", String(contact.note)));
    if (contact.phone) {
      const phone = String(contact.phone);
      const link = element("a", "call", "📞 " + phone);
      link.href = "tel:" + phone.replace(/[^\d+*#]/g, "");
      link.setAttribute("aria-label", t("call").replace("{phone}", phone));
      card.append(paragraphWith(link, ""));
    }
    if (contact.hours) card.append(element("p", "detail", "🕒 " + contact.hours));
    if (contact.languages && contact.languages.length) {
      // Names in the reader's language ("vokiečių", "немецкий"), never bare codes.
      const known = LANGUAGE_NAMES[state.lang] || LANGUAGE_NAMES.en || {};
      const names = contact.languages.map((code) => known[code] || code);
      card.append(element("p", "detail", t("languages_spoken").replace("{languages}", names.join(", "))));
    }
    if (contact.email && /^[^\s@<>]+@[^\s@<>]+$/.test(contact.email)) {
      const mail = element("a", "", String(contact.email));
      mail.href = "mailto:" + contact.email;
      card.append(paragraphWith(mail, "detail"));
    }
    const url = safeUrl(contact.url);
    if (url) {
      const web = element("a", "", url.host + (url.pathname === "/" ? "" : url.pathname));
      web.href = url.href;
      web.target = "_blank";
      web.rel = "noopener noreferrer";
      card.append(paragraphWith(web, "detail"));
    }
    return card;
  }

  function paragraphWith(child, className) {
    const paragraph = element("p", className);
    paragraph.append(child);
    return paragraph;
  }

  function safeUrl(value) {
    try {
      const url = new URL(String(value || ""));
      return url.protocol === "https:" || url.protocol === "http:" ? url : null;
    } catch (_error) {
      return null;
    }
  }

  function choiceGroup(choices) {
    const group = element("div", "choices");
    group.setAttribute("role", "group");
    if (choices.some((choice) => choice.id === "relay:end")) group.dataset.relay = "1";
    for (const choice of choices) {
      const button = element("button", "", String(choice.label));
      button.type = "button";
      button.setAttribute("data-testid", "choice");
      button.addEventListener("click", () => choose(choice));
      group.append(button);
    }
    return group;
  }

  function addUserMessage(text) {
    const node = element("div", "msg user");
    node.append(element("span", "visually-hidden", t("you") + ": "));
    node.append(element("p", "text", text));
    log.append(node);
    log.scrollTop = log.scrollHeight;
  }

  function showStatus(text, offerRestart) {
    // A passing problem (network, too long) leaves an open chat's "End chat" in place.
    const keptRelay = dropOldChoices(!offerRestart);
    const node = element("div", "status");
    node.append(element("p", "", text));
    if (offerRestart) {
      const again = element("button", "", t("start_again"));
      again.type = "button";
      again.addEventListener("click", async () => {
        log.textContent = "";
        await begin(true);
      });
      node.append(again);
      log.append(node);
      again.focus({ preventScroll: true });
    } else {
      log.append(node);
      if (keptRelay) log.append(keptRelay);
    }
    log.scrollTop = log.scrollHeight;
  }

  function showProblem(result) {
    const serverSays = result.data && result.data.error && result.data.error.message;
    const text = {
      0: t("error_network"),
      413: t("error_too_long"),
      422: t("error_too_long"),
      429: t("error_rate"),
      503: serverSays || t("error_busy"),
    }[result.status];
    showStatus(text || t("error_other"), false);
  }

  // -- actions ------------------------------------------------------------------------

  function choose(choice) {
    if (state.busy) return;
    const id = String(choice.id);
    if (id.startsWith("lang:")) setLanguage(id.slice(5));
    send({ choice: id }, String(choice.label));
  }

  function quickExit() {
    const conversation = state.conversation;
    if (conversation) {
      // keepalive lets the erase finish after this page is gone.
      fetch(API + "/" + encodeURIComponent(conversation.id), {
        method: "DELETE",
        headers: { Authorization: "Bearer " + conversation.token },
        keepalive: true,
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      }).catch(() => {});
    }
    forget();
    log.textContent = "";
    if (hostOrigin) {
      // Nothing of the chat stays on screen, while the host page removes the frame.
      document.documentElement.style.visibility = "hidden";
      tellHost("exit");
      // The host page drops the frame when the message arrives (another process when it is
      // another site, slow on a busy phone). Navigating away early can lose the message and
      // leave the widget open, so the frame only blanks itself if it is still here later.
      setTimeout(() => location.replace("about:blank"), 2000);
      return;
    }
    location.replace(NEUTRAL_SITE);
  }

  async function erase() {
    if (state.busy) return;
    if (state.conversation) {
      setBusy(true);
      const result = await call("DELETE", conversationPath());
      setBusy(false);
      if (result.status !== 204 && result.status !== 401) {
        showProblem(result);
        return;
      }
    }
    forget();
    log.textContent = "";
    showStatus(t("erased"), true);
  }

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 4, 144) + "px";
  }

  // -- wiring -------------------------------------------------------------------------

  document.querySelector("[data-testid=quick-exit]").addEventListener("click", quickExit);
  document.querySelector("[data-testid=erase]").addEventListener("click", erase);

  // Shift pressed three times in a row (any other key resets the count), as on GOV.UK.
  let shifts = [];
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && hostOrigin) tellHost("close");
    if (event.key !== "Shift") {
      shifts = [];
      return;
    }
    if (event.repeat) return;
    const now = Date.now();
    shifts = shifts.filter((at) => now - at < 2000);
    shifts.push(now);
    if (shifts.length >= 3) quickExit();
  });

  picker.addEventListener("change", () => {
    picker.dataset.touched = "1";
    const lang = picker.value;
    setLanguage(lang);
    if (state.conversation) send({ choice: "lang:" + lang }, null);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || state.busy) return;
    input.value = "";
    grow();
    send({ text }, text);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", grow);

  // Inside the widget the frame has its own title bar: no second name.
  if (hostOrigin) body.classList.add("embedded");
  applyStrings();
  state.conversation = load();
  if (state.conversation?.stale) {
    call("DELETE", conversationPath()); // not awaited: the new chat does not wait for it
    state.conversation = null;
    begin();
  } else if (state.conversation) {
    resume();
  } else {
    begin();
  }
})();
