/* triage web pages: keyboard shortcuts, local times, small form helpers. No dependencies, no build step.
   Shortcuts are single keys, ignored while typing in a form field and when a modifier key is held:
   an element with data-key="x" is clicked (links, buttons) or focused (fields) when "x" is pressed;
   on the queue, j/k move between the rows. */
(function () {
  "use strict";

  function isField(el) {  // where a letter typed is text or a choice (a tick box takes no letters)
    return !!el && (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) ||
                    (el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(el.type)));
  }

  function moveRow(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-row] a.row-link"));
    if (!links.length) { return false; }
    var i = links.indexOf(document.activeElement);
    var next = i < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, i + step));
    links[next].focus();
    links[next].scrollIntoView({block: "nearest"});
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    var target = event.target;
    if (isField(target)) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key;
    if (document.body.dataset.page === "queue" && (key === "j" || key === "k")) {
      if (moveRow(key === "j" ? 1 : -1)) { event.preventDefault(); }
      return;
    }
    if (key === "?") {
      var help = document.getElementById("pintasan");
      if (help) { event.preventDefault(); help.focus(); help.scrollIntoView(); }
      return;
    }
    if (!/^[a-z0-9]$/.test(key)) { return; }
    // A held key repeats, also on the page it opened: only a fresh press acts (holding k confirms one
    // complaint, the one that was on screen, not the next ones unseen).
    if (event.repeat) { event.preventDefault(); return; }
    var element = document.querySelector('[data-key="' + key + '"]');
    if (!element) { return; }
    event.preventDefault();
    element.focus();
    if (!isField(element)) { element.click(); }
  });

  // Ctrl+Enter in a text area submits its form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA"
        && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Times come as UTC text; show them in the reader's own time zone.
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment)) { return; }
      el.title = el.textContent;
      el.textContent = moment.toLocaleString("id-ID", {day: "2-digit", month: "short", year: "numeric",
                                                       hour: "2-digit", minute: "2-digit"});
    });
    // The intake form's "received at" is in the browser's zone.
    document.querySelectorAll('input[name="tz_offset"]').forEach(function (el) {
      el.value = String(new Date().getTimezoneOffset());
    });
    // Changed correction lists turn the main button into "Simpan koreksi": pressing it (or k) stores
    // what is on screen, never the suggestion over a change the handler made.
    document.querySelectorAll("form.decision").forEach(function (form) {
      var main = form.querySelector("button.big");
      var selects = form.querySelectorAll("select[data-current]");
      if (!main || !selects.length) { return; }
      var labels = {konfirmasi: main.dataset.labelKonfirmasi, koreksi: main.dataset.labelKoreksi};
      function update() {
        var changed = Array.prototype.some.call(selects, function (s) { return s.value !== s.dataset.current; });
        var action = changed ? "koreksi" : "konfirmasi";
        if (main.value === action) { return; }
        main.value = action;
        main.firstChild.textContent = labels[action] + " ";
      }
      selects.forEach(function (s) {
        s.addEventListener("change", update);
        s.addEventListener("input", update);
        // Enter in a correction list (reached with u / o / m, a code chosen by typing the start of its
        // name or with the arrow keys) stores what is on screen, as the main button would.
        s.addEventListener("keydown", function (event) {
          if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
          event.preventDefault();
          update();
          form.requestSubmit(main);
        });
      });
    });
    // A form marked data-once is sent once: a double click does not record two decisions.
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (el) {
      el.addEventListener("click", function () { window.print(); });
    });
  });
}());

/* Working a queue as a team: on the queue, ticking the confident rows for a bulk confirmation ("x" ticks
   the row in focus, "/" goes to the search box); on a complaint, a heartbeat that keeps the "sedang dibuka
   oleh" mark fresh while the page stays open. */
(function () {
  "use strict";

  function isField(el) {  // where a letter typed is text or a choice (a tick box takes no letters)
    return !!el && (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName) ||
                    (el.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(el.type)));
  }

  function bulkForm() {
    var form = document.querySelector("form[data-bulk]");
    if (!form) { return; }
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[data-confident]"));
    // Rows left unticked in an earlier batch of this pass are not selected again by "select all".
    var selectable = boxes.filter(function (box) { return !box.hasAttribute("data-unticked"); });
    var all = form.querySelector("input[data-select-confident]");
    var count = form.querySelector("[data-bulk-count]");
    var submit = form.querySelector("[data-bulk-submit]");
    function update() {
      var n = boxes.filter(function (box) { return box.checked; }).length;
      var picked = selectable.filter(function (box) { return box.checked; }).length;
      count.textContent = String(n);
      submit.disabled = n === 0;
      if (all) {
        all.checked = picked > 0 && picked === selectable.length;
        all.indeterminate = n > 0 && !all.checked;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked && selectable.indexOf(box) >= 0; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }

  function heartbeat() {
    var mark = document.querySelector("[data-heartbeat]");
    if (!mark || !window.fetch) { return; }
    var seconds = Math.max(10, parseInt(mark.dataset.seconds, 10) || 60);
    window.setInterval(function () {
      if (document.visibilityState === "hidden") { return; }
      var body = new URLSearchParams();
      body.set("csrf", mark.dataset.csrf);
      window.fetch(mark.dataset.heartbeat, {method: "POST", body: body, credentials: "same-origin"})
        .catch(function () { /* offline for a moment: the next beat tries again */ });
    }, seconds * 1000);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isField(event.target)) {
      return;
    }
    if (document.body.dataset.page !== "queue") { return; }
    if (event.key === "/") {
      var search = document.getElementById("f-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "a" && !event.repeat) {
      var all = document.querySelector("input[data-select-confident]");
      if (all && !all.disabled) {
        event.preventDefault();
        all.checked = !all.checked;
        all.dispatchEvent(new Event("change"));
      }
    } else if (event.key === "x") {
      var row = document.activeElement && document.activeElement.closest("[data-row]");
      var box = row && row.querySelector("input[data-confident]");
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change"));
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    bulkForm();
    heartbeat();
  });
}());
