'use strict';
// Kept sessions and the page, from the Cache the page fills; everything else from the network.
const SCOPE = new URL(self.registration.scope).pathname;
const CACHE = 'voicecoach ' + SCOPE;
const WAIT_MS = 4000;   // how long the page waits for the computer before showing the kept copy

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  const isFile = url.pathname.startsWith(SCOPE + 'files/');
  event.respondWith(isFile ? keptFirst(request) : networkFirst(request));
});

async function kept(request) {
  const cache = await caches.open(CACHE);
  return cache.match(request, {ignoreSearch: true, ignoreVary: true});
}

async function keptFirst(request) {
  const hit = await kept(request);
  if (!hit) return fetch(request);
  const range = request.headers.get('range');
  return range ? part(hit, range) : hit;
}

// Media elements ask for byte ranges; a cached file answers them from its stored bytes.
async function part(response, range) {
  const blob = await response.blob();
  const size = blob.size;
  const found = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = 0, end = size - 1;
  if (found && found[1] !== '') {
    start = Number(found[1]);
    if (found[2] !== '') end = Math.min(Number(found[2]), size - 1);
  } else if (found && found[2] !== '') {
    start = Math.max(0, size - Number(found[2]));
  }
  if (!found || start >= size || start > end) {
    return new Response(null, {status: 416, headers: {'Content-Range': 'bytes */' + size}});
  }
  return new Response(blob.slice(start, end + 1), {status: 206, headers: {
    'Content-Type': response.headers.get('Content-Type') || 'application/octet-stream',
    'Content-Range': 'bytes ' + start + '-' + end + '/' + size,
    'Content-Length': String(end - start + 1),
    'Accept-Ranges': 'bytes',
  }});
}

async function networkFirst(request) {
  try {
    return await Promise.race([fetch(request), new Promise((_, fail) =>
      setTimeout(() => fail(new Error('the computer did not answer')), WAIT_MS))]);
  } catch (error) {
    const hit = await kept(request);
    if (hit) return hit;
    throw error;
  }
}
