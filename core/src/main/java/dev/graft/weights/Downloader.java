package dev.graft.weights;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Downloads files into graft's cache ({@code $GRAFT_HOME}, else {@code ~/.cache/graft}) with a progress bar.
 * Data goes to a {@code .part} file that is resumed with an HTTP Range request when a transfer breaks, checked
 * against its checksum, and only then renamed into place; a mismatch deletes it. {@code GRAFT_OFFLINE=1} never
 * touches the network.
 */
public final class Downloader {
    private static final int ATTEMPTS = 3;
    private final Path cache;
    private final Consumer<String> log;
    private final boolean progress;
    private final HttpClient http;

    public Downloader(Path cache, Consumer<String> log, boolean progress) {
        this.cache = cache;
        this.log = log;
        this.progress = progress;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    public static Path defaultCache() {
        String home = System.getProperty("graft.home", System.getenv("GRAFT_HOME"));
        if (home != null && !home.isBlank()) {
            return Path.of(home);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "graft");
    }

    public static boolean offline() {
        String v = System.getProperty("graft.offline", System.getenv("GRAFT_OFFLINE"));
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
    }

    public Path cache() {
        return cache;
    }

    /** The cached file for a name, if present (not verified). */
    public Path cached(String subdir, String name) {
        return cache.resolve(subdir).resolve(name);
    }

    /**
     * Returns the cached file, downloading it first if it is missing or fails its checksum.
     *
     * @param checksum expected digest, or null to accept any content (its SHA-256 is printed)
     */
    public Path fetch(String url, String subdir, String name, Checksum checksum) {
        Path target = cache.resolve(subdir).resolve(name);
        try {
            if (Files.isRegularFile(target)) {
                if (checksum == null || checksum.matches(checksum.of(target))) {
                    return target;
                }
                log.accept("cached " + target + " fails its checksum; downloading it again");
                Files.delete(target);
            }
            if (offline()) {
                throw new DownloadException("offline (GRAFT_OFFLINE is set): cannot download " + url, true, null);
            }
            Files.createDirectories(target.getParent());
            Path part = target.resolveSibling(name + ".part");
            IOException last = null;
            for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                try {
                    transfer(url, part);
                    last = null;
                    break;
                } catch (DownloadException e) {
                    throw e;
                } catch (IOException e) {
                    last = e;
                    if (isUnreachable(e)) {
                        break;
                    }
                    log.accept("download of " + url + " broke off (" + e.getMessage() + "); resuming, attempt " + (attempt + 1) + " of " + ATTEMPTS);
                }
            }
            if (last != null) {
                throw new DownloadException("cannot download " + url + ": " + describe(last), isUnreachable(last), last);
            }
            if (checksum != null) {
                String got = checksum.of(part);
                if (!checksum.matches(got)) {
                    Files.deleteIfExists(part);
                    throw new DownloadException("checksum mismatch for " + url + ": expected " + checksum.algorithm() + " starting "
                            + checksum.hexPrefix() + ", got " + got + "; the downloaded file was deleted", false, null);
                }
            } else {
                log.accept("no pinned checksum for " + url + "; its SHA-256 is " + Checksum.digest(part, "SHA-256"));
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new DownloadException("cannot store " + target + ": " + e.getMessage(), false, e);
        }
    }

    private void transfer(String url, Path part) throws IOException {
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).GET();
        if (have > 0) {
            rb.header("Range", "bytes=" + have + "-");
        }
        HttpResponse<InputStream> resp;
        try {
            resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IllegalArgumentException e) {
            throw new DownloadException("invalid URL " + url + ": " + e.getMessage(), false, e);
        }
        int status = resp.statusCode();
        boolean append = status == 206 && have > 0;
        if (status == 416 && have > 0) {
            resp.body().close();
            return; // the part file is already complete
        }
        if (status != 200 && status != 206) {
            resp.body().close();
            throw new DownloadException("HTTP " + status + " for " + url, false, null);
        }
        if (!append) {
            have = 0;
        }
        long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
        long total = length < 0 ? -1 : have + length;
        try (InputStream in = resp.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
             ProgressBar bar = progress ? new ProgressBarBuilder().setTaskName("download " + part.getFileName().toString().replace(".part", ""))
                     .setInitialMax(total).setStyle(ProgressBarStyle.ASCII).setUnit("MB", 1 << 20).showSpeed()
                     .startsFrom(have, Duration.ZERO).build() : null) {
            byte[] buf = new byte[1 << 16];
            int n;
            long got = 0;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                got += n;
                if (bar != null) {
                    bar.stepBy(n);
                }
            }
            if (length >= 0 && got < length) {
                throw new IOException("connection closed after " + (have + got) + " of " + total + " bytes");
            }
        }
    }

    static boolean isUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException || t instanceof ConnectException || t instanceof HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException) {
                return "unknown host " + t.getMessage() + " (no network?)";
            }
            if (t instanceof ConnectException) {
                return "connection refused or no network";
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
