// datahub — the upload form, enhanced: drag and drop, and a progress bar while the file is sent.
// Without this script the form posts as any form does (the server needs nothing from it).
// Apache-2.0, this project.
(function () {
  "use strict";
  var self = document.currentScript ? document.currentScript.src : "/static/upload.js";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button[type=submit]");
  var hints = form.querySelectorAll(".js-only");
  for (var i = 0; i < hints.length; i++) hints[i].hidden = false;

  function say(text) { status.textContent = text; }
  function megabytes(n) { return (n / 1048576).toLocaleString("fr-FR", { maximumFractionDigits: 1 }) + " Mo"; }

  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) {
      event.preventDefault();
      drop.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      say("Fichier choisi : " + input.files[0].name + " (" + megabytes(input.files[0].size) + ").");
    }
  });

  // The answer replaces the page: a redirect is followed (the new version, or the job's page);
  // a refusal is a page of its own (the report), shown in place.
  function show(xhr) {
    var url = xhr.responseURL || "";
    var here = form.action;
    if (url && url.split("#")[0] !== here) {
      window.location.assign(url);
      return;
    }
    var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var main = page.getElementById("contenu");
    if (!main) { window.location.assign(here); return; }
    document.title = page.title;
    document.getElementById("contenu").replaceWith(main);
    var heading = main.querySelector("h2, h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    var again = document.createElement("script");
    again.src = self;
    document.body.appendChild(again);
  }

  form.addEventListener("submit", function (event) {
    if (!input.files.length) return; // the browser says the field is required
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.value = percent;
      bar.textContent = percent + " %";
      say("Envoi : " + megabytes(e.loaded) + " sur " + megabytes(e.total) + " (" + percent + " %).");
    });
    xhr.upload.addEventListener("load", function () {
      say("Fichier envoyé : vérification des lignes en cours…");
    });
    xhr.addEventListener("load", function () { show(xhr); });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      say("L'envoi a échoué (connexion interrompue ?). Réessayez.");
    });
    box.hidden = false;
    button.disabled = true;
    say("Envoi du fichier…");
    xhr.send(new FormData(form));
  });
})();
