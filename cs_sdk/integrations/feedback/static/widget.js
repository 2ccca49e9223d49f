/* cs_sdk feedback widget: one script tag, no dependencies.
 *
 *   <script src="/cs/feedback/widget.js" defer></script>
 *
 * Options (attributes of the script tag):
 *   data-endpoint="/cs/feedback"  where the route is mounted (default: next to this file)
 *   data-css="none"               do not load widget.css (bring your own style)
 *
 * It asks the route for this user's next prompt, shows it (NPS, CSAT, CES, rating, thumbs
 * or free text), sends the answer or the dismissal, and shows the team's replies to the
 * user's earlier feedback. The server decides who the user is: nothing here names a user.
 *
 * An answer that cannot be sent (offline, server error, rate limit) is kept in
 * localStorage and sent again: when the browser comes back online, with a growing delay,
 * and on the next page load. An answer the server refuses for good (4xx) is not retried;
 * the user is told.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var base = (script && script.getAttribute("data-endpoint")) ||
    (script && script.src ? script.src.replace(/\/widget\.js(?:[?#].*)?$/, "") : "/cs/feedback");
  var OUTBOX_KEY = "cs-feedback-outbox";
  var SEEN_KEY = "cs-feedback-seen-replies";
  var MAX_OUTBOX = 20;
  var memoryStore = {};
  var retryTimer = null;
  var retryDelay = 2000;
  var uid = 0;

  var SCALES = {
    nps: { low: "Not at all likely", high: "Extremely likely" },
    csat: {
      low: "Very unsatisfied", high: "Very satisfied",
      labels: ["Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied"]
    },
    ces: { low: "Very difficult", high: "Very easy" },
    rating: { low: "1 star", high: "5 stars", symbol: "\u2605" },
    thumbs: { labels: ["Not helpful", "Helpful"], symbols: ["\uD83D\uDC4E", "\uD83D\uDC4D"] }
  };

  var STATUS = { planned: "Planned", done: "Done", declined: "Not planned" };

  // -- storage that survives a failing localStorage (private windows, quotas) -----------------
  function load(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : [];
    } catch (e) {
      return memoryStore[key] || [];
    }
  }
  function save(key, value) {
    memoryStore[key] = value;
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* kept in memory for this page */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function post(path, payload) {
    return window.fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CS-Feedback": "1" },
      body: JSON.stringify(payload)
    });
  }

  // -- the outbox: answers kept until the server has them -------------------------------------
  function enqueue(path, payload) {
    var outbox = load(OUTBOX_KEY).filter(function (item) {
      return item.payload.prompt_id !== payload.prompt_id;
    });
    outbox.push({ path: path, payload: payload });
    save(OUTBOX_KEY, outbox.slice(-MAX_OUTBOX));
  }
  function settle(promptId) {
    save(OUTBOX_KEY, load(OUTBOX_KEY).filter(function (item) {
      return item.payload.prompt_id !== promptId;
    }));
  }
  // -> "sent", "refused" (final) or "later" (kept for a retry)
  function deliver(item) {
    return post(item.path, item.payload).then(function (response) {
      if (response.ok || response.status === 409) { settle(item.payload.prompt_id); return "sent"; }
      if (response.status === 429 || response.status === 408 || response.status >= 500) {
        return "later";
      }
      settle(item.payload.prompt_id);
      return "refused";
    }, function () { return "later"; });
  }
  function flushOutbox() {
    var outbox = load(OUTBOX_KEY);
    if (!outbox.length) { return; }
    Promise.all(outbox.map(deliver)).then(function (results) {
      if (results.indexOf("later") >= 0) { scheduleRetry(); } else { retryDelay = 2000; }
    });
  }
  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      retryDelay = Math.min(retryDelay * 2, 60000);
      flushOutbox();
    }, retryDelay);
  }

  // -- the prompt -------------------------------------------------------------------------------
  function scaleChoices(prompt) {
    var spec = SCALES[prompt.kind] || {};
    var choices = [];
    for (var score = prompt.min; score <= prompt.max; score++) {
      var index = score - prompt.min;
      var text = spec.symbols ? spec.symbols[index] : (spec.symbol ? spec.symbol : String(score));
      var label = spec.labels ? spec.labels[index] :
        (spec.symbol ? score + (score === 1 ? " star" : " stars") : String(score));
      choices.push({ score: score, text: text, label: label });
    }
    return choices;
  }

  function render(prompt) {
    var id = "csfb-" + (++uid);
    var root = el("aside", {
      "class": "csfb csfb-kind-" + prompt.kind, role: "dialog", "aria-modal": "false",
      "aria-labelledby": id + "-q", "data-prompt-id": prompt.id
    });
    var form = el("form", { "class": "csfb-form", novalidate: "" });
    var status = el("p", { "class": "csfb-status", role: "status", "aria-live": "polite" });
    form.appendChild(el("p", { id: id + "-q", "class": "csfb-question", text: prompt.question }));

    var group = null;
    if (prompt.kind !== "text") {
      var spec = SCALES[prompt.kind] || {};
      group = el("div", { "class": "csfb-scale", role: "radiogroup", "aria-labelledby": id + "-q" });
      scaleChoices(prompt).forEach(function (choice) {
        var input = el("input", {
          type: "radio", name: id + "-score", value: String(choice.score),
          id: id + "-s" + choice.score, "aria-label": choice.label
        });
        var label = el("label", { "for": id + "-s" + choice.score, "class": "csfb-choice" },
          [input, el("span", { "aria-hidden": "true", text: choice.text })]);
        group.appendChild(label);
      });
      form.appendChild(group);
      if (spec.low && spec.high) {
        form.appendChild(el("div", { "class": "csfb-ends", "aria-hidden": "true" },
          [el("span", { text: spec.low }), el("span", { text: spec.high })]));
      }
    }
    var commentLabel = prompt.kind === "text" ? "Your feedback" : "Anything to add? (optional)";
    form.appendChild(el("label", { "for": id + "-c", "class": "csfb-label", text: commentLabel }));
    var comment = el("textarea", { id: id + "-c", "class": "csfb-comment", rows: "2", maxlength: "2000" });
    form.appendChild(comment);
    var actions = el("div", { "class": "csfb-actions" }, [
      el("button", { type: "submit", "class": "csfb-send", text: "Send" }),
      el("button", { type: "button", "class": "csfb-close", "aria-label": "Dismiss", text: "Not now" })
    ]);
    form.appendChild(actions);
    form.appendChild(status);
    root.appendChild(form);

    function close() { if (root.parentNode) { root.parentNode.removeChild(root); } }
    function dismiss() {
      close();
      var payload = { prompt_id: prompt.id };
      enqueue("/dismiss", payload);
      deliver({ path: "/dismiss", payload: payload }).then(function (result) {
        if (result === "later") { scheduleRetry(); }
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = { prompt_id: prompt.id, kind: prompt.kind };
      var text = comment.value.trim();
      if (group) {
        var checked = group.querySelector("input:checked");
        if (!checked) {
          status.textContent = "Choose an answer first.";
          (group.querySelector("input") || comment).focus();
          return;
        }
        payload.score = parseInt(checked.value, 10);
      } else if (!text) {
        status.textContent = "Write your feedback first.";
        comment.focus();
        return;
      }
      if (text) { payload.comment = text; }
      enqueue("/answer", payload);
      form.querySelector(".csfb-send").disabled = true;
      deliver({ path: "/answer", payload: payload }).then(function (result) {
        if (result === "refused") {
          status.textContent = "This answer could not be accepted.";
        } else {
          status.textContent = result === "sent" ? "Thank you!" :
            "Thank you! You seem to be offline: we will send it when you are back.";
          if (result === "later") { scheduleRetry(); }
        }
        root.classList.add("csfb-done");
        window.setTimeout(close, 4000);
      });
    });
    actions.querySelector(".csfb-close").addEventListener("click", dismiss);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); dismiss(); }
    });
    document.body.appendChild(root);
  }

  // -- the team's replies -----------------------------------------------------------------------
  function renderReplies(replies) {
    var seen = load(SEEN_KEY);
    var fresh = replies.filter(function (reply) {
      return seen.indexOf(String(reply.response_id)) < 0;
    });
    if (!fresh.length) { return; }
    var list = el("ul", { "class": "csfb-replies-list" });
    fresh.forEach(function (reply) {
      var said = reply.feedback && reply.feedback.comment;
      list.appendChild(el("li", {}, [
        said ? el("p", { "class": "csfb-reply-said", text: "You said: \u201C" + said + "\u201D" }) : null,
        el("p", { "class": "csfb-reply-head" }, [
          el("strong", { text: reply.team || "The team" }),
          reply.status ? el("span", { "class": "csfb-badge csfb-reply-" + reply.status, text: STATUS[reply.status] || reply.status }) : null
        ]),
        el("p", { "class": "csfb-reply-message", text: reply.message || "" })
      ]));
    });
    var root = el("section", { "class": "csfb csfb-replies", role: "region", "aria-label": "Replies to your feedback" }, [
      el("p", { "class": "csfb-question", text: "You told us, we answered" }), list,
      el("div", { "class": "csfb-actions" },
        [el("button", { type: "button", "class": "csfb-close", text: "Got it" })])
    ]);
    function close() {
      save(SEEN_KEY, seen.concat(fresh.map(function (reply) {
        return String(reply.response_id);
      })).slice(-200));
      if (root.parentNode) { root.parentNode.removeChild(root); }
    }
    root.querySelector(".csfb-close").addEventListener("click", close);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    document.body.appendChild(root);
  }

  function refresh() {
    return window.fetch(base + "/prompt", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.responses && data.responses.length) { renderReplies(data.responses); }
        if (data.prompt) { render(data.prompt); }
      }, function () { /* offline: no prompt this time */ });
  }

  function start() {
    if (!script || script.getAttribute("data-css") !== "none") {
      var href = base + "/widget.css";
      if (!document.querySelector('link[href="' + href + '"]')) {
        document.head.appendChild(el("link", { rel: "stylesheet", href: href }));
      }
    }
    window.addEventListener("online", flushOutbox);
    flushOutbox();
    refresh();
  }

  window.csFeedback = { refresh: refresh, flush: flushOutbox };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
