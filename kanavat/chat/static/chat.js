// kanavat chat page: speaks the JSON protocol of kanavat/chat/PROTOCOL.md over a websocket.
// Plain modern JS, no framework, no build. Every text from the server goes into the DOM with
// textContent, never innerHTML: questions, answers and errors are data, not markup.
"use strict";

(() => {
  const cfg = JSON.parse(document.getElementById("chat-config").textContent);
  const T = cfg.texts;
  const $ = (id) => document.getElementById(id);
  const scroller = $("scroll");
  const log = $("log");
  const quick = $("quick");
  const form = $("form");
  const input = $("input");
  const sendButton = $("send");
  const typing = $("typing");
  const status = $("status");
  const startButton = $("start");
  const restartButton = $("restart");
  const stopButton = $("stop");
  const closedNote = $("closed");
  const dialog = $("confirm");

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const PACE_MS = reducedMotion ? 0 : 420; // a short "typing" pause per bubble reads as a chat
  const idPrefix = Math.random().toString(36).slice(2, 10);
  const pending = new Map(); // client id -> frame, until the server answers it
  let socket = null;
  let attempts = 0;
  let seq = 0;
  let phase = "connecting"; // connecting | welcome | active | done | closed
  let lastQuestion = null;
  let connectedOnce = false;
  let refocus = false;
  let rendering = Promise.resolve();
  let retryTimer = null;

  // -- DOM helpers ------------------------------------------------------------------------

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function bubble(kind, text, hint) {
    const el = document.createElement("div");
    el.className = `msg ${kind}` + (reducedMotion ? "" : " appear");
    if (kind !== "note") {
      const who = document.createElement("span");
      who.className = "sr-only";
      who.textContent = `${kind === "me" ? T.you : T.bot}: `;
      el.append(who);
    }
    const p = document.createElement("p");
    p.textContent = text;
    el.append(p);
    if (hint) {
      const h = document.createElement("p");
      h.className = "hint";
      h.textContent = hint;
      el.append(h);
    }
    log.append(el);
    scrollDown();
    return el;
  }

  let statusTimer = null;

  function setStatus(text, ok) {
    clearTimeout(statusTimer);
    status.textContent = text || "";
    status.classList.toggle("ok", Boolean(ok));
    if (ok) statusTimer = setTimeout(() => setStatus(""), 4000); // good news need not linger
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (on) scrollDown();
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setQuickReplies(buttons) {
    quick.replaceChildren();
    const scale = buttons.length > 1 && buttons.every((b) => /^-?\d+$/.test(b.title));
    quick.classList.toggle("scale", scale);
    quick.style.setProperty("--n", String(buttons.length));
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => {
        refocus = true;
        act("button", { payload: b.payload }, b.title);
      });
      quick.append(button);
    }
  }

  function setPhase(next) {
    phase = next;
    // The box is there once connected, survey open or not: a visitor may write a suggestion
    // (EHDOTUS / FÖRSLAG / IDEA) any day, and after the end still ask for their data
    // (TIETONI / MINA UPPGIFTER / MY DATA) or its erasure.
    const talking = next !== "connecting";
    input.disabled = !talking;
    sendButton.disabled = !talking;
    form.hidden = !talking;
    startButton.hidden = next !== "welcome";
    restartButton.hidden = !(next === "active" || next === "done");
    stopButton.hidden = next !== "active";
    if (next !== "active") setQuickReplies([]);
  }

  function setClosed(text) {
    closedNote.textContent = text;
    closedNote.hidden = !text;
  }

  // -- rendering the server's messages, paced like someone typing ---------------------------

  function render(messages, after) {
    rendering = rendering.then(async () => {
      let buttons = [];
      for (const m of messages) {
        if (m.key === "intro") continue; // the welcome card above already shows it
        showTyping(true);
        await sleep(PACE_MS);
        showTyping(false);
        bubble("bot", m.text, m.hint);
        if (m.question) buttons = m.buttons || [];
      }
      showTyping(false);
      if (after) after();
      if (phase === "active") {
        setQuickReplies(buttons);
        if (refocus || document.activeElement === document.body) {
          const first = quick.querySelector("button");
          (first || input).focus({ preventScroll: true });
        }
      }
      refocus = false;
      scrollDown();
    });
    return rendering;
  }

  function onState(m) {
    if (m.lang && m.lang !== cfg.lang) {
      // The visitor's session is in another language: show the page in that language.
      const url = new URL(window.location.href);
      url.searchParams.set("lang", m.lang);
      window.location.replace(url.toString());
      return;
    }
    if (m.status === "closed") {
      setClosed(m.text);
      setPhase("closed");
      return;
    }
    setClosed(cfg.closed && m.status === "welcome" ? cfg.closed : "");
    if (m.status === "welcome") {
      setPhase(cfg.closed ? "closed" : "welcome");
      return;
    }
    const resumed = connectedOnce && log.childElementCount > 0;
    const same = resumed && m.question === lastQuestion;
    setPhase(m.status);
    if (pending.size > 0 || same) return; // the re-sent frames' answers will follow
    lastQuestion = m.question;
    render(m.messages);
  }

  function onBot(m) {
    if (m.re) pending.delete(m.re);
    lastQuestion = m.question;
    // A suggestion on a closed survey's page is answered "welcome": the survey stays closed.
    const closed = m.status === "welcome" && !closedNote.hidden;
    render(m.messages, () => setPhase(closed ? "closed" : m.status));
  }

  function onNotice(m) {
    // What came of the visitor's answers, or the answer to their suggestion (issue 23).
    rendering = rendering.then(() => {
      const el = bubble("note", m.text);
      const title = document.createElement("p");
      title.className = "notice-title";
      title.textContent = m.title;
      el.prepend(title);
    });
  }

  function onError(m) {
    if (m.re) pending.delete(m.re);
    rendering = rendering.then(() => {
      showTyping(false);
      bubble("note", m.text);
      if (m.code === "closed") {
        setClosed(m.text);
        setPhase("closed");
      }
    });
  }

  // -- the connection ---------------------------------------------------------------------

  function transmit(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function act(type, fields, echo) {
    const id = `${idPrefix}-${++seq}`;
    const frame = { type, id, ...fields };
    pending.set(id, frame);
    setQuickReplies([]);
    if (echo) bubble("me", echo);
    showTyping(true);
    transmit(frame);
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${window.location.host}${cfg.ws}`);
    socket.addEventListener("open", () => {
      if (attempts > 0) setStatus(T.reconnected, true);
      else setStatus("");
      attempts = 0;
      transmit({ type: "hello", lang: cfg.lang });
      for (const frame of pending.values()) transmit(frame);
      connectedOnce = true;
    });
    socket.addEventListener("message", (event) => {
      let m;
      try {
        m = JSON.parse(event.data);
      } catch {
        return;
      }
      if (m.type === "state") onState(m);
      else if (m.type === "typing") showTyping(true);
      else if (m.type === "bot") onBot(m);
      else if (m.type === "error") onError(m);
      else if (m.type === "notice") onNotice(m);
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      if (event.code === 1009) {
        // The server refused a frame as too big: do not send it again and again.
        pending.clear();
        onError({ code: "too_long", text: T.too_long.replace("{max}", cfg.max) });
      }
      showTyping(false);
      setStatus(T.reconnecting);
      const delay = Math.min(8000, 500 * 2 ** attempts) + Math.random() * 300;
      attempts += 1;
      retryTimer = setTimeout(connect, delay);
    });
  }

  // -- what the visitor does --------------------------------------------------------------

  function submitText() {
    const text = input.value.trim();
    if (!text || phase === "connecting") return;
    input.value = "";
    autoGrow();
    act("text", { text }, text);
  }

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 4, 144)}px`;
  }

  function confirmThen(question, yes, action) {
    $("confirm-text").textContent = question;
    $("confirm-ok").textContent = yes;
    $("confirm-cancel").textContent = T.cancel;
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      () => {
        if (dialog.returnValue === "ok") action();
      },
      { once: true },
    );
    dialog.showModal();
    $("confirm-cancel").focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitText();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitText();
    }
  });
  input.addEventListener("input", autoGrow);
  startButton.addEventListener("click", () => {
    refocus = true;
    startButton.hidden = true;
    act("start", {}, null);
  });
  restartButton.addEventListener("click", () =>
    confirmThen(T.restart_confirm, T.restart_yes, () => {
      log.replaceChildren();
      lastQuestion = null;
      refocus = true;
      act("restart", {}, null);
    }),
  );
  stopButton.addEventListener("click", () =>
    confirmThen(T.stop_confirm, T.stop_yes, () => act("stop", {}, null)),
  );
  window.addEventListener("online", () => {
    if (!socket) connect(); // back online: no need to wait for the next retry
  });

  setPhase("connecting");
  if (cfg.closed) setClosed(cfg.closed);
  setStatus(T.connecting);
  connect();
})();
