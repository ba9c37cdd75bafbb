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
