// The print button of doudi's archived notices (/api/v1/notices/{id}/print). The pages are
// served with `default-src 'self'`: no inline script or inline event handler runs, so the
// button is wired here, a same-origin file of the web root.
;(function () {
  function wire() {
    var buttons = document.querySelectorAll('button[data-print]')
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function () {
        window.print()
      })
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire)
  else wire()
})()
