// The sandbox chat page: spaces on the left, the selected space's messages and threads on the
// right, a composer that posts as the chosen demo person. Cards render with the Adaptive Cards
// renderer; pressing a submit button creates an attachment action exactly as Webex does, and
// the sandbox then delivers the signed webhook to the bot. New, edited and deleted messages
// arrive through the sandbox's long-poll change feed, so the page never reloads.
"use strict";

const POLL_TIMEOUT_S = 25;
const RETRY_MS = 2000;

const page = {
  bot: null,
  people: new Map(),      // person id → person
  byEmail: new Map(),     // email → person
  rooms: new Map(),       // room id → room (with members' emails and kind)
  messages: new Map(),    // room id → Map(message id → message), in arrival order
  unread: new Map(),      // room id → count
  selected: null,
  postAs: null,           // email
  replyTo: null,          // message id of a thread root
  seq: 0,
  followUntil: 0,         // after posting or pressing a button, show the answers as they arrive
};

const FOLLOW_MS = 15000;
const NARROW = window.matchMedia("(max-width: 700px)");

const $ = (id) => document.getElementById(id);

// --- Adaptive Cards --------------------------------------------------------------------------

const FOREGROUND = {
  default: { default: "#1F2329", subtle: "#5B6168" },
  accent: { default: "#0A78CC", subtle: "#3D94D6" },
  attention: { default: "#B3261E", subtle: "#C75A54" },
  good: { default: "#1D8A4A", subtle: "#4FA573" },
  warning: { default: "#A65B00", subtle: "#BF7F33" },
  light: { default: "#FFFFFF", subtle: "#F4F5F7" },
  dark: { default: "#11181F", subtle: "#5B6168" },
};

// Close to the Webex clients' look: compact spacing, system fonts, blue accent, horizontal buttons.
const HOST_CONFIG = {
  fontFamily: '-apple-system, "Segoe UI", "Helvetica Neue", Helvetica, Arial, sans-serif',
  supportsInteractivity: true,
  spacing: { small: 4, default: 8, medium: 16, large: 24, extraLarge: 32, padding: 12 },
  separator: { lineThickness: 1, lineColor: "#DDE1E6" },
  fontSizes: { small: 12, default: 14, medium: 16, large: 20, extraLarge: 24 },
  fontWeights: { lighter: 300, default: 400, bolder: 600 },
  containerStyles: {
    default: { backgroundColor: "#FFFFFF", foregroundColors: FOREGROUND },
    emphasis: { backgroundColor: "#F4F5F7", foregroundColors: FOREGROUND },
  },
  actions: {
    maxActions: 6, spacing: "default", buttonSpacing: 8, showCard: { actionMode: "inline", inlineTopMargin: 8 },
    actionsOrientation: "horizontal", actionAlignment: "left",
  },
  adaptiveCard: { allowCustomStyle: false },
  inputs: { label: { requiredInputs: { suffix: " *", suffixColor: "attention" }, optionalInputs: {} },
            errorMessage: { size: "small", color: "attention" } },
};

function renderCard(message) {
  const box = document.createElement("div");
  box.className = "card";
  box.dataset.testid = "card";
  if (!window.AdaptiveCards) {
    box.innerHTML = '<div class="card-error">The card renderer is not installed: run <code>make run</code> (it fetches it).</div>';
    return box;
  }
  const attachment = message.attachments[0];
  const card = new AdaptiveCards.AdaptiveCard();
  // On a phone the buttons stack, as in the Webex mobile apps, so none is cut off.
  const config = { ...HOST_CONFIG, actions: { ...HOST_CONFIG.actions, actionsOrientation: NARROW.matches ? "vertical" : "horizontal",
                                               actionAlignment: NARROW.matches ? "stretch" : "left" } };
  card.hostConfig = new AdaptiveCards.HostConfig(config);
  card.onExecuteAction = (action) => {
    if (action instanceof AdaptiveCards.SubmitAction) {
      submitCard(message, action.data || {});
    } else if (action instanceof AdaptiveCards.OpenUrlAction && /^(https?:|mailto:|tel:)/.test(action.url || "")) {
      window.open(action.url, "_blank", "noopener");
    }
  };
  try {
    card.parse(attachment.content);
    const rendered = card.render();
    if (rendered) box.appendChild(rendered);
  } catch (err) {
    box.innerHTML = `<div class="card-error">This card could not be shown: ${escapeText(String(err))}</div>`;
  }
  return box;
}

// --- Talking to the sandbox --------------------------------------------------------------------

async function call(method, path, body) {
  const response = await fetch(path, {
    method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.message || `${response.status} ${response.statusText}`);
  return data;
}

async function loadDirectory() {
  const data = await call("GET", "/_sandbox/directory");
  page.bot = data.bot;
  page.people.clear();
  page.byEmail.clear();
  for (const person of [data.bot, ...data.people]) {
    page.people.set(person.id, person);
    page.byEmail.set(person.email, person);
  }
  page.rooms.clear();
  for (const room of data.rooms) page.rooms.set(room.id, room);
  if (!page.postAs) page.postAs = (data.people[0] || {}).email;
  if (!page.selected || !page.rooms.has(page.selected)) page.selected = (data.rooms[0] || {}).id;
  renderPeople(data.people);
  renderSpaces();
}

async function follow() {
  for (;;) {
    try {
      const data = await call("GET", `/_sandbox/events?since=${page.seq}&timeout=${page.seq ? POLL_TIMEOUT_S : 0}`);
      setConnection(true);
      let unknownRoom = false;
      for (const event of data.events) {
        if (!page.rooms.has(event.message.roomId)) unknownRoom = true;
        apply(event);
      }
      page.seq = data.seq;
      if (unknownRoom) await loadDirectory();
      if (data.events.length) renderSpaces();
    } catch (err) {
      setConnection(false);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

function setConnection(live) {
  const badge = $("connection");
  badge.textContent = live ? "live" : "reconnecting…";
  badge.className = `connection ${live ? "live" : "down"}`;
}

function apply(event) {
  const message = event.message;
  const room = message.roomId;
  if (!page.messages.has(room)) page.messages.set(room, new Map());
  const messages = page.messages.get(room);
  if (event.kind === "deleted") {
    messages.delete(message.id);
    if (room === page.selected) removeMessage(message.id);
    return;
  }
  const known = messages.has(message.id);
  messages.set(message.id, message);
  if (room === page.selected) {
    if (known) replaceMessage(message); else appendMessage(message, true);
  } else if (!known && event.kind === "created" && page.seq) {
    page.unread.set(room, (page.unread.get(room) || 0) + 1);
  }
}

async function send(event) {
  event.preventDefault();
  const box = $("composer-text");
  const text = box.value.trim();
  if (!text || !page.selected) return;
  const room = page.rooms.get(page.selected);
  showError(null);
  try {
    await call("POST", "/_sandbox/post", {
      as: page.postAs, roomId: room.id, markdown: withMention(text, room), parentId: page.replyTo || undefined,
    });
    box.value = "";
  } catch (err) {
    showError(err.message);
  }
}

async function submitCard(message, inputs) {
  showError(null);
  try {
    await call("POST", "/_sandbox/submit", { as: page.postAs, messageId: message.id, inputs });
    page.followUntil = Date.now() + FOLLOW_MS;
  } catch (err) {
    showError(`${nameOf(page.postAs)} could not press the button: ${err.message}`);
  }
}

// "@Bot" (or the bot's name) becomes a real mention, as picking the bot from Webex's @ list does.
function withMention(text, room) {
  if (!page.bot) return text;
  const names = ["Bot", page.bot.displayName].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(^|\\s)@(${names.join("|")})(?=\\s|$)`, "i");
  return text.replace(pattern, (_, before) => `${before}<@personEmail:${page.bot.email}|${page.bot.displayName}>`);
}

// --- Rendering -------------------------------------------------------------------------------

function escapeText(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

function nameOf(email) {
  const person = page.byEmail.get(email);
  return person ? person.displayName : email;
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

function roomLabel(room) {
  if (room.kind === "direct") {
    const other = room.members.filter((email) => email !== page.bot.email).map(nameOf);
    return `${other.join(", ")} · 1:1 with ${page.bot.displayName}`;
  }
  return room.title;
}

function renderPeople(people) {
  const select = $("post-as");
  select.innerHTML = "";
  for (const person of people) {
    const option = document.createElement("option");
    option.value = person.email;
    option.textContent = `${person.displayName} — ${person.role}${person.org ? `, ${person.org}` : ""}`;
    select.appendChild(option);
  }
  select.value = page.postAs;
}

const GROUPS = [["customer", "Customer spaces"], ["staff", "Staff"], ["direct", "1:1 with the bot"]];

function renderSpaces() {
  const nav = $("spaces");
  const picker = $("space-select");
  nav.innerHTML = "";
  picker.innerHTML = "";
  for (const [kind, heading] of GROUPS) {
    const rooms = [...page.rooms.values()].filter((room) => room.kind === kind);
    if (!rooms.length) continue;
    const title = document.createElement("h2");
    title.textContent = heading;
    nav.appendChild(title);
    const group = document.createElement("optgroup");
    group.label = heading;
    for (const room of rooms) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "space" + (room.id === page.selected ? " selected" : "") + (isMember(room) ? "" : " not-member");
      button.dataset.testid = "space";
      button.dataset.roomId = room.id;
      button.textContent = roomLabel(room);
      const unread = page.unread.get(room.id);
      if (unread) {
        const badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = unread;
        button.appendChild(badge);
      }
      button.addEventListener("click", () => select(room.id));
      nav.appendChild(button);
      const option = document.createElement("option");
      option.value = room.id;
      option.textContent = roomLabel(room) + (unread ? ` (${unread})` : "");
      group.appendChild(option);
    }
    picker.appendChild(group);
  }
  picker.value = page.selected || "";
}

function isMember(room, email = page.postAs) {
  return room.members.includes(email);
}

function select(roomId) {
  page.selected = roomId;
  page.unread.delete(roomId);
  page.replyTo = null;
  renderSpaces();
  renderConversation();
}

function renderConversation() {
  const room = page.rooms.get(page.selected);
  const list = $("messages");
  list.innerHTML = "";
  if (!room) return;
  $("space-title").textContent = roomLabel(room);
  $("space-members").textContent = "Members: " + room.members.map(nameOf).join(", ");
  const messages = [...(page.messages.get(room.id) || new Map()).values()];
  if (!messages.length) {
    list.innerHTML = '<p class="empty">No messages yet.</p>';
  }
  for (const message of messages) appendMessage(message, false);
  list.scrollTop = list.scrollHeight;
  renderComposer();
}

function renderComposer() {
  const room = page.rooms.get(page.selected);
  const note = $("composer-note");
  const member = room && isMember(room);
  $("composer-text").disabled = !member;
  $("composer-text").placeholder = room && room.kind === "direct"
    ? `Write to ${page.bot.displayName}` : "Write a message — in a group space, start with @Bot to address the bot";
  $("send").disabled = !member;
  $("reply-to").hidden = !page.replyTo;
  if (page.replyTo) {
    const root = (page.messages.get(page.selected) || new Map()).get(page.replyTo);
    $("reply-to-text").textContent = root ? (root.text || "card").slice(0, 80) : "";
  }
  if (room && !member) {
    const candidate = room.members.find((email) => email !== page.bot.email);
    note.hidden = false;
    note.innerHTML = "";
    note.append(`${nameOf(page.postAs)} is not a member of this space. `);
    if (candidate) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = "switch-person";
      button.textContent = `Post as ${nameOf(candidate)}`;
      button.addEventListener("click", () => { page.postAs = candidate; $("post-as").value = candidate; renderSpaces(); renderComposer(); });
      note.appendChild(button);
    }
  } else {
    note.hidden = true;
  }
}

function messageNode(message) {
  const author = page.people.get(message.personId) || { displayName: message.personEmail, type: "person" };
  const node = document.createElement("div");
  node.className = "message";
  node.dataset.testid = "message";
  node.dataset.messageId = message.id;
  node.dataset.author = message.personEmail;
  const avatar = document.createElement("div");
  avatar.className = "avatar" + (author.type === "bot" ? " bot" : "");
  avatar.textContent = initials(author.displayName);
  const body = document.createElement("div");
  body.className = "body";
  const meta = document.createElement("div");
  meta.className = "meta";
  const when = new Date(message.created);
  meta.innerHTML = `<span class="author">${escapeText(author.displayName)}</span><time datetime="${message.created}">${when.toLocaleString()}</time>`;
  if (message.updated) {
    const edited = document.createElement("span");
    edited.className = "edited";
    edited.dataset.testid = "edited";
    edited.textContent = "edited";
    meta.appendChild(edited);
  }
  const content = document.createElement("div");
  content.className = "content";
  content.dataset.testid = "content";
  content.innerHTML = message.html || `<p>${escapeText(message.text || "").replace(/\n/g, "<br>")}</p>`;
  body.append(meta, content);
  if (message.sandboxFiles && message.sandboxFiles.length) body.appendChild(renderFiles(message.sandboxFiles));
  if (message.attachments && message.attachments.length) body.appendChild(renderCard(message));
  if (!message.parentId) {
    const reply = document.createElement("button");
    reply.type = "button";
    reply.className = "reply-button";
    reply.dataset.testid = "reply";
    reply.textContent = "Reply in thread";
    reply.addEventListener("click", () => { page.replyTo = message.id; renderComposer(); $("composer-text").focus(); });
    body.appendChild(reply);
  }
  node.append(avatar, body);
  return node;
}

// A message's file, as Webex clients show one: its name, its size, a download.
function renderFiles(files) {
  const box = document.createElement("div");
  box.className = "files";
  for (const file of files) {
    const link = document.createElement("a");
    link.className = "file";
    link.dataset.testid = "file";
    link.href = file.url;
    link.download = file.name;
    link.textContent = `${file.name} (${formatSize(file.size)})`;
    box.appendChild(link);
  }
  return box;
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function appendMessage(message, live) {
  const list = $("messages");
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const empty = list.querySelector(".empty");
  if (empty) empty.remove();
  let thread;
  if (message.parentId) {
    thread = list.querySelector(`.thread[data-root-id="${CSS.escape(message.parentId)}"]`);
  }
  if (!thread) {
    thread = document.createElement("div");
    thread.className = "thread";
    thread.dataset.testid = "thread";
    thread.dataset.rootId = message.parentId || message.id;
    const replies = document.createElement("div");
    replies.className = "replies";
    thread.appendChild(replies);
    list.appendChild(thread);
  }
  const node = messageNode(message);
  if (message.parentId) thread.querySelector(".replies").appendChild(node);
  else thread.insertBefore(node, thread.querySelector(".replies"));
  if (!live || nearBottom) list.scrollTop = list.scrollHeight;
  else if (Date.now() < page.followUntil) node.scrollIntoView({ block: "nearest" });
}

function replaceMessage(message) {
  const old = $("messages").querySelector(`.message[data-message-id="${CSS.escape(message.id)}"]`);
  if (old) old.replaceWith(messageNode(message)); else appendMessage(message, true);
}

function removeMessage(id) {
  const old = $("messages").querySelector(`.message[data-message-id="${CSS.escape(id)}"]`);
  if (old) old.remove();
}

function showError(text) {
  const box = $("composer-error");
  box.hidden = !text;
  box.textContent = text || "";
}

// --- Start -----------------------------------------------------------------------------------

async function start() {
  // Card texts as a phone shows them (card_markdown.js), backslashes and all.
  if (window.AdaptiveCards) AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = cardMarkdown(text);
    result.didProcess = true;
  };
  $("composer").addEventListener("submit", send);
  $("composer-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
  });
  $("reply-cancel").addEventListener("click", () => { page.replyTo = null; renderComposer(); });
  $("post-as").addEventListener("change", (event) => { page.postAs = event.target.value; renderSpaces(); renderComposer(); });
  $("space-select").addEventListener("change", (event) => select(event.target.value));
  NARROW.addEventListener("change", () => renderConversation());
  try {
    await loadDirectory();
  } catch (err) {
    setConnection(false);
    showError(`The sandbox did not answer: ${err.message}`);
    return;
  }
  renderConversation();
  follow();
}

start();
