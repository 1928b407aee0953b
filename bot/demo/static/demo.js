// The demo page: three phone-sized chats with the emulated Telegram, and the dashboard.
"use strict";

const { labels: L, people, dashboard } = window.DEMO;
const phones = new Map(); // user id -> { root, chat, toast, seenToasts, drawn }
const board = document.getElementById("dashboard");

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== "") node.textContent = text;
  return node;
}

async function post(user, action, body, type = "application/json") {
  const init = { method: "POST", body };
  if (type) init.headers = { "Content-Type": type };
  const response = await fetch(`/demo/api/${user}/${action}`, init);
  if (!response.ok) toast(user, `${L.failed}: ${await response.text()}`);
}

function toast(user, text) {
  const { toast: box } = phones.get(user);
  box.textContent = text;
  box.hidden = false;
  clearTimeout(box.timer);
  box.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

function linked(text) {
  // Like Telegram clients: web addresses in a message open (the /dashboard link, say).
  const span = el("span", { class: "text" });
  text.split(/(https?:\/\/\S+)/).forEach((part, i) => {
    span.append(i % 2 ? el("a", { href: part, target: "_blank", rel: "noopener" }, part) : part);
  });
  return span;
}

function bubble(user, message) {
  const item = el("li", { class: message.mine ? "mine" : "bot", "data-id": message.id });
  const body = el("div", { class: "bubble" });
  if (message.photo) body.append(el("img", { src: `/demo/files/${message.photo}`, alt: "" }));
  if (message.voice) body.append(el("audio", { src: `/demo/files/${message.voice}`, controls: "" }));
  if (message.document) body.append(el("div", {}, `📄 ${L.document}`));
  if (message.text) body.append(linked(message.text));
  if (message.edited) body.append(el("span", { class: "edited" }, L.edited));
  item.append(body);
  if (message.buttons.length) {
    const keyboard = el("div", { class: "keyboard" });
    for (const row of message.buttons) {
      const line = el("div", { class: "row" });
      for (const button of row) {
        const press = el("button", { type: "button" }, button.text);
        press.addEventListener("click", () =>
          post(user, "press", JSON.stringify({ message_id: message.id, data: button.data })));
        line.append(press);
      }
      keyboard.append(line);
    }
    item.append(keyboard);
  }
  return item;
}

function draw(user, chat) {
  const phone = phones.get(user);
  const drawn = JSON.stringify(chat.messages);
  if (drawn !== phone.drawn) {
    phone.drawn = drawn;
    phone.chat.replaceChildren(...chat.messages.map((m) => bubble(user, m)));
    phone.chat.scrollTop = phone.chat.scrollHeight;
  }
  const fresh = phone.seenToasts >= 0 && chat.toasts.length > phone.seenToasts;
  if (fresh) toast(user, chat.toasts[chat.toasts.length - 1]);
  phone.seenToasts = chat.toasts.length;
}

let boardTimer = null;
function refreshBoard() {
  // dashboard.js keeps its refresh() global: call it rather than reload the whole frame.
  clearTimeout(boardTimer);
  boardTimer = setTimeout(() => {
    const frame = board.contentWindow;
    if (frame && typeof frame.refresh === "function") frame.refresh();
  }, 1500);
}

async function poll() {
  let revision = -1;
  for (;;) {
    try {
      const response = await fetch(`/demo/api/state?after=${revision}`);
      if (!response.ok) throw new Error(String(response.status));
      const state = await response.json();
      if (state.revision !== revision && revision !== -1) refreshBoard();
      revision = state.revision;
      for (const [user, chat] of Object.entries(state.chats)) draw(Number(user), chat);
      document.getElementById("hint").textContent = L.hint;
    } catch (error) {
      document.getElementById("hint").textContent = `${L.offline} (${error.message})`;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function wav(samples, rate) {
  const data = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) data.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); data.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); data.setUint32(16, 16, true); data.setUint16(20, 1, true);
  data.setUint16(22, 1, true); data.setUint32(24, rate, true); data.setUint32(28, rate * 2, true);
  data.setUint16(32, 2, true); data.setUint16(34, 16, true);
  text(36, "data"); data.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => data.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 32767, true));
  return new Blob([data], { type: "audio/wav" });
}

async function toWav(recording) {
  // The browser records WebM or OGG; decode it here and send 16 kHz mono PCM, which the
  // server encodes as the OGG/Opus voice note Telegram would deliver.
  const decoded = await new AudioContext().decodeAudioData(await recording.arrayBuffer());
  const rate = 16000;
  const offline = new OfflineAudioContext(1, Math.ceil(decoded.duration * rate), rate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  return wav((await offline.startRendering()).getChannelData(0), rate);
}

function recorder(user, button) {
  let recording = null;
  button.title = L.record;
  button.addEventListener("click", async () => {
    if (recording) {
      recording.stop();
      return;
    }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      toast(user, L.no_microphone);
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      toast(user, `${L.no_microphone} (${error.message})`);
      return;
    }
    const chunks = [];
    recording = new MediaRecorder(stream);
    recording.ondataavailable = (event) => chunks.push(event.data);
    recording.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      button.classList.remove("on");
      const type = recording.mimeType;
      recording = null;
      post(user, "voice", await toWav(new Blob(chunks, { type })), "audio/wav");
    };
    recording.start();
    button.classList.add("on");
  });
}

function phone(person) {
  const root = document.getElementById("phone").content.firstElementChild.cloneNode(true);
  root.dataset.user = person.id;
  root.querySelector(".role").textContent = person.role;
  root.querySelector(".name").textContent = person.name;
  const text = root.querySelector(".text");
  text.placeholder = L.type_here;
  root.querySelector(".compose").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    post(person.id, "text", JSON.stringify({ text: text.value }));
    text.value = "";
  });
  const file = root.querySelector("input[type=file]");
  root.querySelector(".attach").title = L.photo;
  file.addEventListener("change", () => {
    if (!file.files.length) return;
    const form = new FormData();
    form.append("photo", file.files[0]);
    if (text.value.trim()) form.append("caption", text.value.trim());
    text.value = "";
    file.value = "";
    post(person.id, "photo", form, null);
  });
  recorder(person.id, root.querySelector(".record"));
  phones.set(person.id, {
    root, chat: root.querySelector(".chat"), toast: root.querySelector(".toast"), seenToasts: -1,
  });
  return root;
}

document.getElementById("phones").append(...people.map(phone));
board.src = dashboard;
poll();
