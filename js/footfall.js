/*
 * footfall.js: cookieless page views and custom events for footfall.
 *
 * The readable source. The file served at /js/footfall.js is this file
 * minified by `make assets` (terser, pinned in package-lock.json); a test
 * keeps the gzipped build under 1 KB and checks it matches this source.
 *
 *   <script defer data-site="example.com" src="https://stats.example.com/js/footfall.js"></script>
 *
 * Attributes (all optional but data-site):
 *   data-site            the site as registered with `footfall sites add` (default: page host)
 *   data-api             where to post events (default: the script's own origin + /api/event)
 *   data-hash            count hash changes (#/route) as page views
 *   data-manual          no automatic page views: call footfall('pageview') yourself
 *   data-outbound-links  send "Outbound Link: Click" for links to other hosts
 *   data-file-downloads  send "File Download" for links to files; a value such as
 *                        "pdf,zip" replaces the default list of extensions
 *   data-respect-dnt     send nothing when the browser asks for Do-Not-Track or GPC
 *   data-allow-localhost also count pages served from localhost / 127.x / file:
 *
 * It sets no cookie and stores nothing in the browser: the server derives a
 * daily-rotating visitor id from the request, so nothing here identifies a person.
 *
 * Field names are the short ones the collector accepts (Plausible-like):
 *   n name, u url, d site, r referrer, w viewport width, p props, h hash mode.
 */
(function (w, d) {
  const loc = w.location;
  const nav = w.navigator;
  const script = d.currentScript;
  const data = script.dataset; // data-file-downloads is data.fileDownloads, ...

  const endpoint = data.api || new URL(script.src).origin + '/api/event';
  const site = data.site || loc.hostname;
  const hash = 'hash' in data;
  const files = data.fileDownloads;
  const exts = (files || 'pdf,xlsx,docx,csv,zip,gz,exe,dmg,mp3,mp4').split(',');
  // The URL of the last page view, and the referrer of the page being viewed:
  // a SPA route change refers from the previous route, as a full page load would.
  let page;
  let referrer = d.referrer;

  // Why this browser must not be counted (decided once), or '' when it may be.
  let ignored =
    !('allowLocalhost' in data) &&
    (/^localhost$|^127(\.\d+){3}$|^\[::1\]$/.test(loc.hostname) || loc.protocol == 'file:')
      ? 'localhost: add data-allow-localhost to the script tag to count it'
      : 'respectDnt' in data && (nav.doNotTrack == '1' || nav.globalPrivacyControl)
        ? 'Do-Not-Track'
        : '';
  try {
    // Site owners leave their own visits out with localStorage.footfall_ignore = "true".
    if (w.localStorage.footfall_ignore == 'true') ignored = 'footfall_ignore';
  } catch (e) { /* storage blocked: nothing to honour */ }

  const url = () => (hash ? loc.href : loc.href.split('#')[0]);

  // footfall(name, {props: {...}, callback: fn, u: url}): the public entry point.
  function send(name, options = {}) {
    if (ignored) {
      console.warn('footfall: ignored, ' + ignored);
    } else {
      const body = { n: name, u: options.u || url(), d: site, r: referrer, w: w.innerWidth };
      if (options.props) body.p = options.props;
      if (hash) body.h = 1;
      const json = JSON.stringify(body);
      // sendBeacon survives the page unloading (outbound clicks); a string body is
      // text/plain, a "simple" request, so neither path needs a CORS preflight.
      if (!(nav.sendBeacon && nav.sendBeacon(endpoint, json))) {
        fetch(endpoint, {
          method: 'POST', body: json, keepalive: true, headers: { 'Content-Type': 'text/plain' }
        });
      }
    }
    if (options.callback) options.callback();
  }

  function pageview() {
    const here = url();
    if (here == page) return; // replaceState to the same URL, or a repeated hook
    if (page) referrer = page;
    page = here;
    send('pageview');
  }

  function onClick(event) {
    const link = event.target.closest?.('a[href]');
    if (!link || event.button > 1) return; // left or middle button only
    if (files != null && exts.includes(link.pathname.split('.').pop().toLowerCase())) {
      send('File Download', { props: { url: link.href } });
    } else if ('outboundLinks' in data && link.host != loc.host) {
      send('Outbound Link: Click', { props: { url: link.href } });
    }
  }

  const queued = (w.footfall && w.footfall.q) || [];
  w.footfall = send;

  if (!('manual' in data)) {
    const history = w.history;
    for (const method of ['pushState', 'replaceState']) {
      const original = history[method];
      history[method] = function () {
        const result = original.apply(this, arguments);
        pageview();
        return result;
      };
    }
    w.addEventListener('popstate', pageview);
    if (hash) w.addEventListener('hashchange', pageview);
    pageview();
  }

  d.addEventListener('click', onClick);
  d.addEventListener('auxclick', onClick);

  // Calls made before the script loaded (see the snippet in docs/browser.md).
  for (const args of queued) send(...args);
})(window, document);
