// The review form's script, inlined and allowed by its SHA-256 (functions/pages.py). A convenience only:
// it keeps Post disabled, with the reason beside it, until the rules hold, and disables the options they
// exclude. The server checks every rule again; the page works without it.
(function () {
  'use strict';
  var form = document.getElementById('review');
  if (!form) {
    return;
  }
  // The sentences come from the page, so that they are written once, on the server.
  var M = {
    privacy: form.getAttribute('data-message-privacy'),
    disclosure: form.getAttribute('data-message-disclosure'),
    consent: form.getAttribute('data-message-consent'),
    branded: form.getAttribute('data-message-branded')
  };
  function el(id) {
    return document.getElementById(id);
  }
  var privacy = el('privacy_level'), disclose = el('disclose'), brand = el('brand_organic'),
    branded = el('branded_content'), consent = el('consent'), post = el('post'), wrap = el('post-wrap'),
    why = el('post-why'), video = el('preview-video');
  var selfOnly = privacy ? privacy.querySelector('option[value="SELF_ONLY"]') : null;
  var brandedLocked = branded.hasAttribute('data-locked');
  var tooLong = '';

  function update() {
    if (!disclose.checked) {
      brand.checked = false;
      branded.checked = false;
    }
    if (selfOnly) {
      selfOnly.disabled = branded.checked;
      selfOnly.title = branded.checked ? M.branded : '';
    }
    branded.disabled = brandedLocked || privacy.value === 'SELF_ONLY';
    if (branded.disabled) {
      branded.checked = false;
    }
    var reason = form.getAttribute('data-blocked') || tooLong;
    if (!reason && !privacy.value) {
      reason = M.privacy;
    }
    if (!reason && disclose.checked && !brand.checked && !branded.checked) {
      reason = M.disclosure;
    }
    if (!reason && branded.checked && privacy.value === 'SELF_ONLY') {
      reason = M.branded;
    }
    if (!reason && !consent.checked) {
      reason = M.consent;
    }
    post.disabled = reason !== '';
    wrap.title = reason;
    why.textContent = reason;
  }

  form.addEventListener('change', update);
  form.addEventListener('input', update);
  if (video) {
    // The browser measures the video too: a video over the account's limit cannot be posted.
    video.addEventListener('loadedmetadata', function () {
      var max = Number(form.getAttribute('data-max-duration'));
      if (max && video.duration > max) {
        tooLong = 'The video lasts ' + video.duration.toFixed(1) +
          ' seconds; this account may post videos of at most ' + max + ' seconds.';
        update();
      }
    });
  }
  update();
})();
