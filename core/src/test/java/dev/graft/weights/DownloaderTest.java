package dev.graft.weights;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The download path against a local HTTP server: checksums, resume after a broken transfer, HTTP errors. */
class DownloaderTest {
    HttpServer server;
    byte[] payload;
    AtomicInteger breakNext = new AtomicInteger();
    List<String> ranges = new ArrayList<>();
    @TempDir
    Path cache;

    @BeforeEach
    void start() throws IOException {
        payload = new byte[300_000];
        new Random(1).nextBytes(payload);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/weights.pth", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            int from = 0;
            if (range != null && range.startsWith("bytes=")) {
                from = Integer.parseInt(range.substring(6, range.indexOf('-')));
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (payload.length - 1) + "/" + payload.length);
                ex.sendResponseHeaders(206, payload.length - from);
            } else {
                ex.sendResponseHeaders(200, payload.length);
            }
            try (OutputStream out = ex.getResponseBody()) {
                if (breakNext.getAndDecrement() > 0) {
                    out.write(payload, from, 100_000);
                    out.flush();
                    ex.getHttpContext().getServer();
                    throw new IOException("simulated broken connection");
                }
                out.write(payload, from, payload.length - from);
            }
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void downloadsIntoTheCacheAndChecksTheChecksum() throws Exception {
        Downloader d = new Downloader(cache, s -> { }, false);
        Path f = d.fetch(url("/weights.pth"), "resnet18", "weights.pth", Checksum.sha256(sha256(payload).substring(0, 8)));
        assertEquals(cache.resolve("resnet18/weights.pth"), f);
        assertArrayEquals(payload, Files.readAllBytes(f));
        // second call is served from the cache
        int requests = ranges.size();
        d.fetch(url("/weights.pth"), "resnet18", "weights.pth", Checksum.sha256(sha256(payload).substring(0, 8)));
        assertEquals(requests, ranges.size());
    }

    @Test
    void checksumMismatchDeletesTheFileAndSaysSo() {
        Downloader d = new Downloader(cache, s -> { }, false);
        DownloadException e = assertThrows(DownloadException.class,
                () -> d.fetch(url("/weights.pth"), "x", "weights.pth", Checksum.sha256("deadbeef")));
        assertTrue(e.getMessage().contains("checksum mismatch") && e.getMessage().contains("deleted"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("x/weights.pth")));
        assertFalse(Files.exists(cache.resolve("x/weights.pth.part")));
    }

    @Test
    void brokenTransferIsResumedWithARangeRequest() throws Exception {
        breakNext.set(1);
        List<String> log = new ArrayList<>();
        Downloader d = new Downloader(cache, log::add, false);
        Path f = d.fetch(url("/weights.pth"), "x", "weights.pth", Checksum.sha256(sha256(payload).substring(0, 8)));
        assertArrayEquals(payload, Files.readAllBytes(f));
        assertTrue(ranges.stream().anyMatch(r -> r.startsWith("bytes=")), "expected a resumed request: " + ranges);
        assertTrue(log.stream().anyMatch(l -> l.contains("resuming")), log.toString());
    }

    @Test
    void httpErrorNamesTheUrlAndStatus() {
        Downloader d = new Downloader(cache, s -> { }, false);
        DownloadException e = assertThrows(DownloadException.class, () -> d.fetch(url("/missing"), "x", "m.pth", null));
        assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("/missing"), e.getMessage());
    }

    @Test
    void unreachableHostIsReportedAsOffline() {
        Downloader d = new Downloader(cache, s -> { }, false);
        DownloadException e = assertThrows(DownloadException.class, () -> d.fetch("http://127.0.0.1:9/w.pth", "x", "w.pth", null));
        assertTrue(e.unreachable(), e.getMessage());
    }

    @Test
    void unzipRefusesEntriesThatEscapeTheTarget() throws Exception {
        for (String evil : new String[] {"../evil.txt", "a/../../evil.txt", "/tmp/evil-abs.txt"}) {
            Path zip = cache.resolve("evil.zip");
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ZipOutputStream z = new ZipOutputStream(bytes)) {
                z.putNextEntry(new ZipEntry("hotdog/train/ok.txt"));
                z.write(1);
                z.putNextEntry(new ZipEntry(evil));
                z.write(2);
            }
            Files.write(zip, bytes.toByteArray());
            Path target = cache.resolve("out");
            IOException e = assertThrows(IOException.class, () -> SafeUnzip.extract(zip, target));
            assertTrue(e.getMessage().contains("refusing entry"), e.getMessage());
            assertFalse(Files.exists(cache.resolve("evil.txt")));
            assertFalse(Files.exists(Path.of("/tmp/evil-abs.txt")));
            assertFalse(Files.exists(target.resolve("hotdog/train/ok.txt")), "nothing is written when any entry is refused");
        }
    }

    @Test
    void unzipExtractsAGoodArchive() throws Exception {
        Path zip = cache.resolve("good.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("hotdog/train/hotdog/a.txt"));
            z.write("x".getBytes());
        }
        SafeUnzip.extract(zip, cache.resolve("data"));
        assertEquals("x", Files.readString(cache.resolve("data/hotdog/train/hotdog/a.txt")));
    }
}
