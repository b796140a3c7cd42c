// The dashboard's script: it refreshes the page in place and sends the
// actions as the JSON POSTs the command line sends (same routes, same
// guards). The page works without it.
(() => {
  "use strict";
  document.documentElement.classList.add("js");
  const every = 5000;
  const flash = document.getElementById("flash");
  let busy = false;

  function say(text, bad) {
    flash.textContent = text;
    flash.className = bad ? "bad" : "";
  }

  // refresh replaces <main> with the page as served now, keeping what the
  // person is doing: open details, and the follow field while in use.
  async function refresh() {
    const field = document.getElementById("follow-name");
    if (busy || (field && (field.value !== "" || document.activeElement === field))) {
      return;
    }
    busy = true;
    try {
      const r = await fetch(location.pathname, { cache: "no-store", credentials: "same-origin" });
      if (!r.ok) {
        say("The node answered " + r.status + "; retrying.", true);
        return;
      }
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.querySelector("main");
      const main = document.querySelector("main");
      if (!fresh || !main) {
        return;
      }
      const open = new Set([...main.querySelectorAll("details[open][data-key]")].map((d) => d.dataset.key));
      main.replaceWith(fresh);
      for (const d of fresh.querySelectorAll("details[data-key]")) {
        if (open.has(d.dataset.key)) {
          d.open = true;
        }
      }
      if (flash.classList.contains("bad") && flash.dataset.lost) {
        say("", false);
        delete flash.dataset.lost;
      }
    } catch (e) {
      say("Cannot reach the node: is the daemon still running?", true);
      flash.dataset.lost = "1";
    } finally {
      busy = false;
    }
  }

  const ops = {
    rollback: (f) => ["/api/v1/site/rollback", { version: Number(f.dataset.version) },
      (res) => "Version " + res.current.version + " is current: the site of version " + res.from + "."],
    follow: (f) => ["/api/v1/follow/add", { name: f.elements.name.value.trim() },
      (res) => "Following " + res.follow.name + "."],
    unfollow: (f) => ["/api/v1/follow/rm", { name: f.dataset.name },
      (res) => "No longer following " + res.name + "."],
  };

  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-op]");
    if (!form || !ops[form.dataset.op]) {
      return;
    }
    ev.preventDefault();
    const [url, body, done] = ops[form.dataset.op](form);
    const button = form.querySelector("button");
    button.disabled = true;
    say("Working…", false);
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const res = await r.json();
      if (!r.ok) {
        say((res.error && res.error.message) || ("The node answered " + r.status), true);
        return;
      }
      say(done(res), false);
      if (form.elements.name && form.dataset.op === "follow") {
        form.elements.name.value = "";
      }
    } catch (e) {
      say("Cannot reach the node: " + e.message, true);
    } finally {
      button.disabled = false;
      await refresh();
    }
  });

  setInterval(refresh, every);
})();
