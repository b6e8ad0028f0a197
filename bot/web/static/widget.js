// Safe Abroad widget. Embed with one tag on a site listed in the bot's FRAME_ANCESTORS:
//
//   <script src="https://YOUR-SAFE-ABROAD/widget.js" data-lang="lt" data-campaign="x" async></script>
//
// It adds a launcher bubble that opens the chat (/chat) in an iframe from the Safe Abroad
// origin. Everything lives in one Shadow DOM, so no style or global leaks into the page.
// Optional: data-exit-url="https://..." also sends the host page there on quick exit.
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || !script.src) return;

  const STRINGS = /*STRINGS*/{};
  const LANGUAGES = ["lt", "ru", "uk", "en"];
  const chatOrigin = new URL(script.src, location.href).origin;

  function normalize(tag) {
    const base = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
    const lang = base === "ua" ? "uk" : base;
    return LANGUAGES.includes(lang) ? lang : "";
  }

  function webUrl(value) {
    try {
      const url = new URL(String(value || ""), location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
    } catch (_error) {
      return "";
    }
  }

  const lang = normalize(script.dataset.lang) || normalize(document.documentElement.lang) || "en";
  const words = STRINGS[lang] || STRINGS.en || {};
  const campaign = script.dataset.campaign || "";
  const exitUrl = webUrl(script.dataset.exitUrl);

  // Host-page rules reach the host element and what inherits from it, so every element
  // here sets its own font and position instead of relying on :host.
  const CSS = `
    :host { all: initial; }
    .launcher, .panel { all: initial; box-sizing: border-box; position: fixed; z-index: 2147483000;
      font: 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif;
      color: #1b1d1f; }
    button { font: inherit; cursor: pointer; }
    .launcher { right: 16px; bottom: 16px; display: flex; align-items: center; gap: 8px;
      min-height: 48px; padding: 12px 20px; border: 0; border-radius: 999px;
      background: #0a5561; color: #fff; font-weight: 700; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25); }
    .launcher:hover { background: #07424b; }
    .launcher[hidden], .panel[hidden] { display: none; }
    :focus-visible { outline: 3px solid #0b0c0c; outline-offset: 2px; box-shadow: 0 0 0 2px #ffbf47; }
    .panel { right: 16px; bottom: 16px; display: flex; flex-direction: column;
      width: min(420px, calc(100vw - 32px)); height: min(680px, calc(100vh - 32px));
      background: #fff; border-radius: 12px; overflow: hidden;
      box-shadow: 0 8px 30px rgba(0, 0, 0, 0.3); }
    .top { display: flex; align-items: center; justify-content: space-between; gap: 8px;
      padding: 4px 4px 4px 16px; background: #0a5561; color: #fff; font-weight: 700; }
    .close { width: 44px; height: 44px; border: 0; border-radius: 8px; background: transparent;
      color: #fff; font-size: 28px; line-height: 1; }
    .close:hover { background: rgba(255, 255, 255, 0.15); }
    iframe { flex: 1 1 auto; width: 100%; border: 0; background: #fff; }
    @media (max-width: 480px) {
      .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
    }
  `;

  function chatUrl() {
    const url = new URL("/chat", chatOrigin);
    url.searchParams.set("lang", lang);
    if (campaign) url.searchParams.set("c", campaign);
    url.searchParams.set("embed", "1");
    url.searchParams.set("host", location.origin);
    return url.href;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function addStyles(shadow) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (_error) {
      shadow.append(element("style", "", CSS));
    }
  }

  function mount() {
    if (document.querySelector("safe-abroad-widget")) return; // one widget per page
    const host = document.createElement("safe-abroad-widget");
    const shadow = host.attachShadow({ mode: "open" });
    addStyles(shadow);

    const launcher = element("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("data-testid", "launcher");
    launcher.setAttribute("aria-label", words.open_label || "");
    launcher.setAttribute("aria-expanded", "false");
    launcher.append(element("span", "", "💬"), element("span", "", words.open || "Safe Abroad"));

    const panel = element("div", "panel");
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", words.frame_title || "Safe Abroad");
    const top = element("div", "top");
    const close = element("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", words.close || "Close");
    top.append(element("span", "", words.brand || "Safe Abroad"), close);
    panel.append(top);

    let frame = null;

    function open() {
      if (!frame) {
        frame = document.createElement("iframe");
        frame.title = words.frame_title || "Safe Abroad";
        frame.referrerPolicy = "no-referrer";
        // No top navigation: even a compromised chat cannot move the host page elsewhere.
        frame.setAttribute(
          "sandbox",
          "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox"
        );
        frame.allow = ""; // no camera, microphone, location or payment for the chat
        frame.src = chatUrl();
        panel.append(frame);
      }
      panel.hidden = false;
      launcher.hidden = true;
      launcher.setAttribute("aria-expanded", "true");
      frame.focus();
    }

    function hide() {
      panel.hidden = true;
      launcher.hidden = false;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }

    function exit() {
      // The chat has already erased itself; dropping the frame drops what it showed.
      if (frame) frame.remove();
      frame = null;
      hide();
      if (exitUrl) location.replace(exitUrl);
    }

    launcher.addEventListener("click", open);
    close.addEventListener("click", hide);
    shadow.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !panel.hidden) hide();
    });
    window.addEventListener("message", (event) => {
      if (!frame || event.origin !== chatOrigin || event.source !== frame.contentWindow) return;
      const data = event.data;
      if (!data || data.source !== "safe-abroad") return;
      if (data.type === "exit") exit();
      else if (data.type === "close") hide();
    });

    shadow.append(launcher, panel);
    document.body.append(host);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
