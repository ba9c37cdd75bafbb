"""Sharing with a phone: export a program into a folder, then serve it on a private page behind a token."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from voicecoach import paths
from voicecoach.discreet import NEUTRAL
from voicecoach.errors import VoicecoachError
from voicecoach.phone import page, report
from voicecoach.phone.server import PhoneServer, site, tls_context

if TYPE_CHECKING:
    from voicecoach.phone.certificate import Certificate

PROBE = ("10.255.255.255", 9)   # any private address: a UDP connect to it only asks the kernel for a route


def lan_address() -> str:
    """This machine's address on the local network, found without sending anything."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE)        # UDP: picks the route and source address; no packet leaves
            address = probe.getsockname()[0]
    except OSError:
        address = None
    if not address or address.startswith("127.") or address == "0.0.0.0":
        raise VoicecoachError("this computer is not on a local network (no Wi-Fi or cable found); "
                              "connect it to the same Wi-Fi as your phone, or leave out --lan")
    if ipaddress.ip_address(address).is_global:
        raise VoicecoachError(f"this computer's address {address} is on the open internet, not a home network; "
                              "voicecoach will not share sessions there")
    return address


def data_folder() -> Path:
    """Where `serve` keeps what it makes: the exported sessions and the certificate."""
    return paths.data_dir() / "serve"


def default_folder(path: Path, discreet: bool, *, hands_free: bool = False) -> Path:
    """The folder a program is exported into for sharing, unless --dir says otherwise."""
    # Hands-free versions get their own folder, so switching back and forth re-exports nothing.
    return data_folder() / (Path(path).stem + ("-hands-free" if hands_free else "") + ("-discreet" if discreet else ""))


def listing_for(path: Path, done, *, discreet: bool) -> page.Listing:
    """The page's listing for a program export (`done`, an export.ProgramExport) of the file at `path`."""
    from voicecoach.export.program import stage_files
    title, about, stages = stage_files(Path(path))
    tracks = tuple(page.track(number, stage.title, f.path.name, f.session.timeline, discreet=discreet,
                              transcript=f.transcript.name if f.transcript and f.transcript.is_file() else None,
                              guidance=stage.guidance, key=_playable(number, stage, f).key)
                   for number, (stage, f) in enumerate(zip(stages, done.files), start=1))
    return page.Listing(NEUTRAL if discreet else title, "" if discreet else about, tracks,
                        bundle=done.bundle.name if done.bundle else None, playlist=done.playlist.name,
                        readme=done.readme.name, discreet=discreet)


def _playable(number: int, stage, exported) -> report.Playable:
    # Logged as `play` and `today` log it: the script's file name and its settings with the stage's applied.
    return report.Playable(number, Path(stage.script).name, dict(exported.session.script.params),
                           exported.session.timeline.length)


def log_target(path: Path, done, *, db: str | os.PathLike | None, discreet: bool,
               on_log: Callable[[str], None] | None = None) -> report.LogTarget:
    """What the page may log about the program export `done` of the file at `path`, and into which log."""
    from voicecoach.export.program import stage_files
    _, _, stages = stage_files(Path(path))
    numbered = list(enumerate(zip(stages, done.files), start=1))
    sessions = {number: _playable(number, stage, f) for number, (stage, f) in numbered}
    # Sessions alongside a stage may sit between the stages: today's stage is found by its own number.
    stage_sessions = {stage.stages[0]: number for number, (stage, _) in numbered
                      if not getattr(stage, "alongside", False) and len(getattr(stage, "stages", ())) == 1}
    return report.LogTarget(Path(db) if db else None, sessions, report.program_stages(Path(path)), stage_sessions,
                            discreet, on_log)


def real_titles(path: Path, done) -> dict:
    """For a discreet page: each session's real title, by its number on the page."""
    from voicecoach.export.program import stage_files
    _, _, stages = stage_files(Path(path))
    # The real titles stay on the computer: the page's HTML (which "Keep on this phone" stores) holds only the
    # neutral ones, and a title reaches the phone only when its owner taps for it (title-3.json), is never
    # stored there (every answer is no-store, and the service worker keeps only what the page asks it to
    # keep), and is gone from the screen a little later.
    return {number: stage.title for number, (stage, _) in enumerate(zip(stages, done.files), start=1)}


@dataclass
class Sharing:
    """An exported program with its server, bound and ready to serve."""
    server: PhoneServer
    folder: Path
    listing: page.Listing
    lan: bool
    cert: Certificate | None = None

    def announce(self, echo: Callable[[str], None]) -> None:
        """Tell the user where the sessions are, who can reach them, and the link with its QR code."""
        from voicecoach.phone.qr import terminal_qr
        n, port = len(self.listing.tracks), self.server.port
        echo(f"Sharing {n} session{'s' if n != 1 else ''} from {self.folder}")
        if self.lan:
            echo(f"Listening on {self.server.host} port {port}: your local network only. Anyone on this "
                 "network who has the link can open it, so share the link with no one.")
        else:
            echo(f"Listening on 127.0.0.1 port {port}: this computer only. To reach it from your phone on the "
                 f"same Wi-Fi, add --lan (or, over USB: adb reverse tcp:{port} tcp:{port}).")
        if self.cert:
            echo("The certificate is your computer's own (self-signed), so the phone will warn about it. "
                 f"Its SHA-256 fingerprint: {self.cert.fingerprint}")
        elif self.lan:
            echo("Over plain http on Wi-Fi the phone can Download sessions; to keep them in the page for "
                 "offline use, add --https.")
        echo("")
        if self.lan:
            echo(terminal_qr(self.server.url))
            echo(f"Open this on your phone (or scan the code): {self.server.url}")
        else:
            # A phone cannot open 127.0.0.1 on its own, so a code to scan would only lead nowhere.
            echo(f"Open this in a browser on this computer: {self.server.url}")
            echo(f"On a phone plugged in by USB, after `adb reverse tcp:{port} tcp:{port}` the same link works "
                 "there too; for a phone on the same Wi-Fi, stop and run `voicecoach serve --lan`.")
        from voicecoach.phone.feed import FEED, feed_line
        feed = self.server.url + FEED
        echo(feed_line(feed))
        if self.lan:
            echo(terminal_qr(feed))
        echo("Press Ctrl-C to stop sharing.")

    def run(self) -> None:
        """Serve until Ctrl-C; the socket is closed however it ends."""
        try:
            self.server.serve_forever()
        finally:
            self.server.stop()


def open_share(path: Path, cache, folder: Path, *, port: int = 8765, lan: bool = False, https: bool = False,
               discreet: bool = False, hands_free: bool = False, pre_roll: int = 20, force: bool = False,
               tls_folder: Path | None = None, progress=None,
               on_visit: Callable[[str], None] | None = None, db: str | os.PathLike | None = None,
               on_log: Callable[[str], None] | None = None) -> Sharing:
    """Export the program at `path` into `folder` (skipping what is up to date) and bind its server; the page
    logs played sessions into the practice log `db` (None: the default one), telling `on_log`.

    With `force`, `folder` may hold files voicecoach did not write: they stay, and are not shared."""
    from voicecoach.export.program import export_program
    # Our own folder in the user data folder holds nothing of the user's; one an earlier version filled has
    # no manifest yet, and is taken over (its files replaced where a name is needed, none removed).
    ours = Path(folder).expanduser().absolute().parent == data_folder().absolute()
    done = export_program(path, folder, cache, fmt="mp3", discreet=discreet, hands_free=hands_free,
                          pre_roll=pre_roll, progress=progress, beside=force or ours, bundle=True)
    listing = listing_for(path, done, discreet=discreet)
    host = lan_address() if lan else "127.0.0.1"
    cert = None
    if https:
        from voicecoach.phone.certificate import certificate
        cert = certificate(tls_folder or data_folder() / "certificate", [host])
    shared = replace(site(listing, done.folder, cert=cert,
                          log=log_target(path, done, db=db, discreet=discreet, on_log=on_log)),
                     titles=real_titles(path, done) if discreet else {})
    server = PhoneServer(shared, host, port, tls=tls_context(cert) if cert else None, on_visit=on_visit)
    # The feed's links are absolute, so it is made once the server is bound and its address known.
    from voicecoach.phone.feed import feed_files, feed_pages
    server.site = server.httpd.site = replace(shared, pages={**shared.pages, **feed_pages(done, server.url)},
                                              files={**shared.files, **feed_files(done),
                                                     **{p.name: p for p in done.stage_playlists}})
    return Sharing(server, done.folder, listing, lan, cert)
