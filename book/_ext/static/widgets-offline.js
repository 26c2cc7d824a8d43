// Loaded on pages with widgets, after require.js and before the widget manager
// (see nb_ipywidgets_js in _config.yml).
(function () {
  var here = document.currentScript.src;
  // The widget manager loads its icon fonts from beside the module URL that require.js gives it;
  // point those URLs at the local copy in _static/vendor/html-manager/.
  var manager = new URL("vendor/html-manager", here).href;
  require.config({paths: {"@jupyter-widgets/html-manager/dist": manager, "@jupyter-widgets": manager}});

  // ipywidgets typesets widget labels with the MathJax 2 call MathJax.Hub.Queue; the pages load
  // MathJax 3, so give it that call (it typesets the element once MathJax has started).
  function addHub() {
    var mj = window.MathJax;
    if (!mj || !mj.version || mj.Hub) return;
    mj.Hub = {Queue: function (job) {
      var element = job && job[2];
      if (mj.startup && mj.startup.promise && mj.typesetPromise) {
        mj.startup.promise.then(function () {
          return mj.typesetPromise(element ? [element] : undefined);
        }).catch(function (err) { console.error("MathJax typeset of a widget failed:", err); });
      }
    }};
  }
  // A static page has no kernel: the widgets show the state they were saved in and their controls
  // cannot change it. Show the controls as disabled and say so under each widget. (The widget
  // manager reads the saved state when the page has loaded, after this has run.)
  var NOTE = "Static page: the controls work in a running notebook (Colab or Jupyter); " +
             "any output shown here is for their default setting.";
  function markStatic() {
    var models = {};
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
      .forEach(function (script) {
        try {
          var saved = JSON.parse(script.textContent);
          Object.keys(saved.state || {}).forEach(function (id) {
            var model = saved.state[id].state || {};
            models[id] = model;
            if ("disabled" in model) model.disabled = true;
          });
          script.textContent = JSON.stringify(saved);
        } catch (err) { console.error("could not read the saved widget state:", err); }
      });
    // Does the widget (or a widget inside it) have a control? A progress bar has none.
    function hasControl(id, seen) {
      var model = models[id];
      if (!model || seen[id]) return false;
      seen[id] = true;
      if ("disabled" in model) return true;
      return JSON.stringify(model).split('"IPY_MODEL_').slice(1).some(function (part) {
        return hasControl(part.split('"')[0], seen);
      });
    }
    document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')
      .forEach(function (view) {
        var id;
        try { id = JSON.parse(view.textContent).model_id; } catch (err) { return; }
        if (!hasControl(id, {})) return;
        var note = document.createElement("p");
        note.className = "widget-static-note";
        note.style.cssText = "font-size: 0.85em; font-style: italic; color: #6c757d; margin: 0.3em 0 0;";
        note.textContent = NOTE;
        view.parentNode.insertBefore(note, view.nextSibling);
      });
  }

  addHub();
  document.addEventListener("DOMContentLoaded", function () {
    addHub();  // MathJax (deferred) has loaded by then
    markStatic();
  });
})();
