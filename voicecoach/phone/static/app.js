'use strict';
(() => {
  const root = document.documentElement;
  root.classList.replace('no-js', 'js');
  const body = document.body;
  const stages = [...document.querySelectorAll('.stage')];
  const audios = stages.map((stage) => stage.querySelector('audio'));

  function showMedia(stage) {
    if (!('mediaSession' in navigator) || typeof MediaMetadata === 'undefined') return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: stage.dataset.title, artist: body.dataset.artist, album: body.dataset.album,
      artwork: [{src: 'icon.svg', sizes: '96x96', type: 'image/svg+xml'}],
    });
  }

  for (const stage of stages) {
    const audio = stage.querySelector('audio');
    const button = stage.querySelector('.play');
    const lines = [...stage.querySelectorAll('.transcript li[data-t]')];
    const label = (playing) => {
      button.textContent = playing ? 'Pause' : 'Play';
      button.setAttribute('aria-pressed', String(playing));
    };
    button.hidden = false;
    button.addEventListener('click', () => (audio.paused ? audio.play() : audio.pause()));
    audio.addEventListener('play', () => {
      for (const other of audios) if (other !== audio) other.pause();
      label(true);
      showMedia(stage);
    });
    audio.addEventListener('pause', () => label(false));
    audio.addEventListener('ended', () => label(false));
    for (const link of stage.querySelectorAll('a[data-t]')) {
      link.addEventListener('click', (event) => {
        event.preventDefault();
        audio.currentTime = Number(link.dataset.t);
        audio.play();
      });
    }
    let shown = null;
    audio.addEventListener('timeupdate', () => {
      let now = null;
      for (const line of lines) if (Number(line.dataset.t) <= audio.currentTime) now = line;
      if (now !== shown) {
        if (shown) shown.classList.remove('now');
        if (now) now.classList.add('now');
        shown = now;
      }
    });
  }

  // ---------------------------------------------------------------- the real titles, on a discreet page
  // They stay on the computer until the owner taps, and are hidden again after a little while.
  const HIDE_AFTER_MS = 20000;
  for (const button of document.querySelectorAll('.reveal')) {
    const neutral = button.textContent;
    const stage = button.closest('.stage');
    let timer = null;
    const hide = () => {
      button.textContent = neutral;
      button.setAttribute('aria-expanded', 'false');
      clearTimeout(timer);
    };
    button.addEventListener('click', async () => {
      if (button.getAttribute('aria-expanded') === 'true') return hide();
      try {
        const response = await fetch('title-' + stage.dataset.number + '.json', {cache: 'no-store'});
        if (!response.ok) throw new Error(String(response.status));
        button.textContent = (await response.json()).title;
      } catch (error) {
        button.textContent = neutral + ' (its name needs the computer)';
      }
      button.setAttribute('aria-expanded', 'true');
      timer = setTimeout(hide, HIDE_AFTER_MS);
    });
  }

  // ---------------------------------------------------------------- the practice log
  // What is played here is noted in the log on the computer this page came from, and sent nowhere else.
  // A note that cannot reach it waits in this browser (per address, so the next sharing, whose link differs,
  // still sends it) until the next visit.
  const QUEUE = 'voicecoach waiting notes';
  const logging = body.dataset.log === 'yes';
  const byId = (id) => document.getElementById(id);

  function waiting() {
    try {
      const list = JSON.parse(localStorage.getItem(QUEUE) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];
    }
  }

  function setWaiting(list) {
    try {
      if (list.length) localStorage.setItem(QUEUE, JSON.stringify(list));
      else localStorage.removeItem(QUEUE);
      return true;
    } catch (error) {
      return false;
    }
  }

  const forget = (request) => setWaiting(waiting().filter((note) => note.request !== request));

  function requestId() {
    // Made here, once per note: the computer records a note it has seen before only once.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function send(note) {
    let response;
    try {
      response = await fetch('log', {method: 'POST', cache: 'no-store', credentials: 'same-origin',
                                     headers: {'Content-Type': 'application/json'}, body: JSON.stringify(note)});
    } catch (error) {
      return {outcome: 'later'};
    }
    if (response.ok) return {outcome: 'sent'};
    // 400, 413, 415: the computer will never take this note, so it is not kept. Anything else (an old link, the
    // log busy or unwritable) may work next time.
    if ([400, 413, 415].includes(response.status)) {
      return {outcome: 'refused', why: (await response.text()).trim()};
    }
    return {outcome: 'later'};
  }

  let flushing = null;
  function flush() {
    flushing = flushing || (async () => {
      let sent = 0;
      for (const note of waiting()) {
        const result = await send(note);
        if (result.outcome === 'later') break;
        forget(note.request);
        if (result.outcome === 'sent') sent += 1;
      }
      return {sent, left: waiting().length};
    })().finally(() => { flushing = null; });
    return flushing;
  }

  const sessions = (n) => (n === 1 ? 'one session' : n + ' sessions');

  async function showToday() {
    let today;
    try {
      const response = await fetch('today.json', {cache: 'no-store'});
      if (!response.ok) return;
      today = await response.json();
    } catch (error) {
      return;     // no computer: the page keeps the program's order
    }
    const first = byId('stage-' + today.session);
    if (!first) return;
    const list = first.parentElement;
    for (const stage of stages) {
      list.appendChild(stage);      // the program's order again, then today's stage on top
      stage.classList.remove('today');
      stage.querySelector('.today-label').hidden = true;
    }
    list.insertBefore(first, list.firstElementChild);
    first.classList.add('today');
    const label = first.querySelector('.today-label');
    label.textContent = 'Today';
    label.hidden = false;
    if (today.text) {
      byId('today').textContent = today.text;
      byId('today').hidden = false;
    }
  }

  function ask(stage, ended) {
    const audio = stage.querySelector('audio');
    const ms = Number(stage.dataset.ms);
    const at = Math.min(audio.currentTime || 0, ms / 1000);
    const done = ended || at * 1000 >= ms - 1000;
    stage.pending = {request: requestId(), session: Number(stage.dataset.number), status: done ? 'done' : 'partial',
                     seconds: done ? Math.round(ms / 1000) : Math.floor(at * 1000) / 1000, ended: new Date().toISOString()};
    if (stage.dataset.key) stage.pending.key = stage.dataset.key;
    stage.querySelector('.stop').hidden = true;
    stage.querySelector('.log-status').textContent = '';
    stage.querySelector('.rate').hidden = false;
    stage.querySelector('.rate .comfort').focus();
  }

  async function note(stage, comfort) {
    const status = stage.querySelector('.log-status');
    const pending = stage.pending;
    if (!pending) return;
    stage.pending = null;
    stage.querySelector('.rate').hidden = true;
    const entry = Object.assign({}, pending, {comfort});
    // Kept first, sent second: a page closed halfway still has it, and sending it twice records it once.
    const kept = setWaiting(waiting().concat([entry]));
    status.textContent = 'Noting it in your log…';
    const result = await send(entry);
    if (result.outcome === 'sent') {
      forget(entry.request);
      status.textContent = 'Noted in your log on the computer.';
      await flush();
      await showToday();
    } else if (result.outcome === 'refused') {
      forget(entry.request);
      status.textContent = 'The computer did not note this: ' + result.why;
    } else {
      status.textContent = kept ? 'Saved on this phone; it will reach your log next time.'
        : 'The computer could not be reached, and this browser would not keep the note.';
    }
  }

  if (logging) {
    for (const stage of stages) {
      const audio = stage.querySelector('audio');
      const stop = stage.querySelector('.stop');
      audio.addEventListener('play', () => { if (stage.querySelector('.rate').hidden) stop.hidden = false; });
      audio.addEventListener('ended', () => ask(stage, true));
      stop.addEventListener('click', () => { audio.pause(); ask(stage, false); });
      for (const button of stage.querySelectorAll('.rate .comfort')) {
        button.addEventListener('click', () => note(stage, Number(button.dataset.comfort)));
      }
      stage.querySelector('.rate .skip').addEventListener('click', () => note(stage, null));
    }
    flush().then(({sent, left}) => {
      const said = [];
      if (sent) said.push(sessions(sent).replace(/^o/, 'O') + ' saved on this phone reached your log.');
      if (left) said.push(sessions(left).replace(/^o/, 'O') + ' saved on this phone will reach your log next time.');
      byId('queue-status').textContent = said.join(' ');
    }).finally(showToday);
  }

  // Keeping sessions: only where the browser allows a service worker (a secure context).
  const SCOPE = new URL('./', location.href).pathname;
  const CACHE = 'voicecoach ' + SCOPE;
  const SHELL = __SHELL__;
  const $ = (id) => document.getElementById(id);
  if (!window.isSecureContext || !('serviceWorker' in navigator) || !('caches' in window)) {
    $('keep-no').hidden = false;
    return;
  }

  const absolute = (path) => new URL(path, location.href).href;
  const filesOf = (stage) => [stage.dataset.file, stage.dataset.words].filter(Boolean).map(absolute);
  const nameOf = (url) => decodeURIComponent(new URL(url).pathname.split('/').pop()) || 'this page';

  async function kept(stage) {
    if (!(await caches.has(CACHE))) return false;     // opening it would make an empty one
    const cache = await caches.open(CACHE);
    return Boolean(await cache.match(absolute(stage.dataset.file)));
  }

  async function keep(stage) {
    const status = stage.querySelector('.kept-status');
    status.textContent = 'Keeping this session on this phone…';
    try {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.map(absolute).concat(filesOf(stage)));
      status.textContent = 'Kept: it plays here with no connection.';
    } catch (error) {
      status.textContent = 'It could not be kept (' + error.message + '). Download works instead.';
    }
    await refresh();
  }

  async function drop(stage) {
    const cache = await caches.open(CACHE);
    for (const url of filesOf(stage)) await cache.delete(url);
    stage.querySelector('.kept-status').textContent = 'Removed from this phone.';
    if (!(await Promise.all(stages.map(kept))).some(Boolean)) await caches.delete(CACHE);
    await refresh();
  }

  async function refresh() {
    const list = $('stored-list');
    list.textContent = '';
    let total = 0;
    for (const key of await caches.keys()) {
      if (!key.startsWith('voicecoach ')) continue;
      const cache = await caches.open(key);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        const size = response ? (await response.clone().blob()).size : 0;
        total += size;
        const item = document.createElement('li');
        const where = key === CACHE ? '' : ' (from an earlier sharing)';
        item.textContent = nameOf(request.url) + ', ' + Math.max(1, Math.round(size / 1024)) + ' KB' + where;
        list.appendChild(item);
      }
    }
    $('stored').hidden = false;
    if (!list.children.length) {
      const item = document.createElement('li');
      item.textContent = 'Nothing is stored on this phone.';
      list.appendChild(item);
    } else {
      const item = document.createElement('li');
      item.textContent = 'In all: ' + (total / 1048576).toFixed(1) + ' MB.';
      list.appendChild(item);
    }
    $('forget').hidden = list.children.length < 2;
    for (const stage of stages) {
      const button = stage.querySelector('.keep');
      const yes = await kept(stage);
      button.dataset.kept = yes ? 'yes' : 'no';
      button.textContent = yes ? 'Kept on this phone: remove' : 'Keep on this phone';
      button.hidden = false;
    }
  }

  navigator.serviceWorker.register('sw.js', {scope: './'}).then(() => {
    $('keep-yes').hidden = false;
    for (const stage of stages) {
      const button = stage.querySelector('.keep');
      button.addEventListener('click', () => (button.dataset.kept === 'yes' ? drop(stage) : keep(stage)));
    }
    $('forget').addEventListener('click', async () => {
      for (const key of await caches.keys()) if (key.startsWith('voicecoach ')) await caches.delete(key);
      for (const registration of await navigator.serviceWorker.getRegistrations()) await registration.unregister();
      await refresh();
      for (const stage of stages) stage.querySelector('.keep').hidden = true;
      $('keep-yes').hidden = true;
      $('keep-failed').hidden = false;
      $('keep-failed').textContent = 'Everything is removed. Reload the page to keep sessions again.';
    });
    return refresh();
  }).catch((error) => {
    $('keep-failed').hidden = false;
    $('keep-failed').textContent = 'This browser would not keep sessions here (' + error.message +
      '). Download works instead.';
  });
})();
