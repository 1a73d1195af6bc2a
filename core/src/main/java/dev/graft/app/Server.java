package dev.graft.app;

import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.util.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * HTTP service around a {@link Classifier}: {@code POST /predict} (raw image body or multipart field "image"/"file")
 * returns the top-k as JSON (with {@code ?explain=1} also a Grad-CAM heat map as a PNG data URI), {@code GET /} is a
 * page to pick or drop an image, {@code GET /health} says it is up. Every error is JSON {@code {"error": ...}} with
 * its status (400, 403, 404, 405, 408, 413, 503, and 500 with a request id that the log also names) and a message a
 * user can act on.
 * <p>
 * Work per request is bounded, so hostile or merely many clients cannot take the service down:
 * <ul>
 * <li>uploads are received without holding a thread (servlet asynchronous reads), so a client that sends one byte
 * now and then costs a connection, not a thread; Jetty's pool is bounded ({@link Limits#httpThreads}), and so are the
 * connections ({@link Limits#maxConnections});</li>
 * <li>an upload must arrive whole within {@link Limits#requestMillis} whatever its pace (408), and may not stall for
 * longer than {@link Limits#readMillis} (408);</li>
 * <li>the bytes of uploads being received or waiting are held within {@link Limits#uploadMemory}: an upload that would
 * not fit is answered 503 before (or as soon as) it does not fit;</li>
 * <li>predictions run at most {@link Limits#maxConcurrent} at once; at most {@link Limits#maxQueued} more wait, each
 * at most {@link Limits#queueMillis}; beyond that 503 at once, with Retry-After;</li>
 * <li>Grad-CAM ({@code ?explain=1}: a second forward, a backward and a PNG) has its own budget of
 * {@link Limits#explainConcurrent}, outside the prediction slots (beyond it 503 with Retry-After), and the operator
 * can turn it off ({@link Limits#explain}: 403).</li>
 * </ul>
 * Large photos are decoded at a reduced scale, with the pixel limit read from the header before decoding.
 */
public final class Server implements AutoCloseable {
    /**
     * Limits of one server.
     *
     * @param maxBytes          largest request body
     * @param maxConcurrent     predictions at once (decode and forward)
     * @param queueMillis       how long a received upload waits for a prediction slot before 503
     * @param topK              classes per answer unless the request asks (?top_k=)
     * @param maxPixels         largest image, read from its header before decoding
     * @param readMillis        how long an upload may stall (nothing arriving) before 408
     * @param requestMillis     how long an upload may take to arrive whole, whatever its pace, before 408
     * @param uploadMemory      bytes of uploads held at once (being received, or received and waiting)
     * @param maxQueued         received uploads waiting for a prediction slot; more are answered 503 at once
     * @param explainConcurrent Grad-CAM heat maps ({@code ?explain=1}) being computed at once; more are answered 503
     * @param explain           whether {@code ?explain=1} is served at all (off: 403)
     * @param httpThreads       Jetty's threads (accepting, selecting, reading callbacks, writing answers)
     * @param maxConnections    open connections; beyond it new ones wait in the kernel's accept queue
     */
    public record Limits(long maxBytes, int maxConcurrent, long queueMillis, int topK, long maxPixels, long readMillis,
                         long requestMillis, long uploadMemory, int maxQueued, int explainConcurrent, boolean explain,
                         int httpThreads, int maxConnections) {
        public Limits {
            if (maxBytes < 1 || maxConcurrent < 1 || queueMillis < 0 || topK < 1 || maxPixels < 1 || readMillis < 1 || requestMillis < 1
                    || uploadMemory < 1 || maxQueued < 0 || explainConcurrent < 1 || httpThreads < 8 || maxConnections < 1) {
                throw new IllegalArgumentException("server limits out of range: " + this);
            }
        }

        /** The older six limits; the rest at their defaults. */
        public Limits(long maxBytes, int maxConcurrent, long queueMillis, int topK, long maxPixels, long readMillis) {
            this(maxBytes, maxConcurrent, queueMillis, topK, maxPixels, readMillis, 60_000, defaultUploadMemory(maxBytes),
                    4 * maxConcurrent, 1, true, 32, 1024);
        }

        public static Limits defaults() {
            return new Limits(20L << 20, Math.max(1, Runtime.getRuntime().availableProcessors()), 10_000, 5,
                    ImageDecoder.SERVING_MAX_PIXELS, 30_000);
        }

        /** Four of the largest uploads, and at least 64 MB. */
        public static long defaultUploadMemory(long maxBytes) {
            return Math.max(64L << 20, 4 * maxBytes);
        }

        public Limits withRequestMillis(long v) {
            return new Limits(maxBytes, maxConcurrent, queueMillis, topK, maxPixels, readMillis, v, uploadMemory, maxQueued,
                    explainConcurrent, explain, httpThreads, maxConnections);
        }

        public Limits withUploadMemory(long v) {
            return new Limits(maxBytes, maxConcurrent, queueMillis, topK, maxPixels, readMillis, requestMillis, v, maxQueued,
                    explainConcurrent, explain, httpThreads, maxConnections);
        }

        public Limits withMaxQueued(int v) {
            return new Limits(maxBytes, maxConcurrent, queueMillis, topK, maxPixels, readMillis, requestMillis, uploadMemory, v,
                    explainConcurrent, explain, httpThreads, maxConnections);
        }

        public Limits withExplain(boolean on, int concurrent) {
            return new Limits(maxBytes, maxConcurrent, queueMillis, topK, maxPixels, readMillis, requestMillis, uploadMemory, maxQueued,
                    concurrent, on, httpThreads, maxConnections);
        }
    }

    private static final String REQUEST_ID = "graft.request_id";

    private final Classifier classifier;
    private final Limits limits;
    private final Consumer<String> log;
    private final Semaphore slots;
    private final Semaphore explainSlots;
    private final AtomicLong held = new AtomicLong();
    private final ThreadPoolExecutor work;
    private final ScheduledExecutorService timer;
    private final ImageDecoder decoder;
    private final Javalin app;
    private final String page;
    private final String idPrefix = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    private final AtomicLong requests = new AtomicLong();

    public Server(Classifier classifier, Limits limits) {
        this(classifier, limits, System.err::println);
    }

    /** @param log where internal errors go, each with its request id and stack trace */
    public Server(Classifier classifier, Limits limits, Consumer<String> log) {
        this.classifier = classifier;
        this.limits = limits;
        this.log = log;
        this.slots = new Semaphore(limits.maxConcurrent(), true);
        this.explainSlots = new Semaphore(limits.explainConcurrent());
        // a prediction job per received upload: the running ones and the waiting ones, no queue beyond them
        AtomicInteger n = new AtomicInteger();
        this.work = new ThreadPoolExecutor(limits.maxConcurrent() + limits.maxQueued(), limits.maxConcurrent() + limits.maxQueued(),
                30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> daemon(r, "graft-predict-" + n.incrementAndGet()));
        this.work.allowCoreThreadTimeOut(true);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "graft-deadlines"));
        // a photo far larger than the model's input is decoded at a reduced scale: less memory and time per request
        this.decoder = new ImageDecoder(limits.maxPixels(), classifier.preprocessing().resize());
        this.page = loadPage();
        this.app = Javalin.create(config -> {
            QueuedThreadPool pool = new QueuedThreadPool(limits.httpThreads(), Math.min(8, limits.httpThreads()), 60_000);
            pool.setName("graft-http");
            config.jetty.threadPool = pool;
            config.jetty.modifyServer(s -> s.addBean(new NetworkConnectionLimit(limits.maxConnections(), s)));
            config.http.prefer405over404 = true;
            // a backstop only: every /predict answers within requestMillis + queueMillis + the prediction itself
            config.http.asyncTimeout = limits.requestMillis() + limits.queueMillis() + 600_000;
            config.jetty.modifyHttpConfiguration(http -> http.setIdleTimeout(limits.readMillis()));
            config.startup.showJavalinBanner = false;
            config.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
            config.routes.get("/health", ctx -> json(ctx, 200, Json.object().put("status", "ok")
                    .put("classes", classifier.labels().size()).put("explain", limits.explain() && classifier.explains())
                    .set("labels", Json.tree(classifier.labels()))));
            config.routes.post("/predict", this::predict);
            config.routes.error(404, "*", ctx -> error(ctx, 404, "no such page: " + ctx.method() + " " + ctx.path()
                    + "; this server answers GET /, GET /health and POST /predict"));
            config.routes.error(405, "*", ctx -> error(ctx, 405, ctx.method() + " is not allowed on " + ctx.path()
                    + (ctx.path().startsWith("/predict") ? "; send the image with POST" : "; use GET")));
            config.routes.exception(Exception.class, (e, ctx) -> internalError(ctx, e));
        });
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public Server start(String host, int port) {
        app.start(host, port);
        return this;
    }

    public int port() {
        return app.port();
    }

    /** The prediction slots (tests hold them to see the busy answer). */
    Semaphore slots() {
        return slots;
    }

    /** The Grad-CAM budget (tests hold it to see the busy answer). */
    Semaphore explainSlots() {
        return explainSlots;
    }

    /** Bytes of uploads held now. */
    long heldBytes() {
        return held.get();
    }

    @Override
    public void close() {
        app.stop();
        work.shutdownNow();
        timer.shutdownNow();
    }

    private String newRequestId() {
        return idPrefix + "-" + Long.toHexString(requests.incrementAndGet());
    }

    private void predict(Context ctx) {
        String id = newRequestId();
        ctx.attribute(REQUEST_ID, id);
        ctx.header("X-Request-Id", id);
        String len = ctx.header("Content-Length");
        long declared = len != null && len.matches("\\d{1,18}") ? Long.parseLong(len) : -1;
        if (declared > limits.maxBytes()) {
            close(ctx);
            error(ctx, 413, "request of " + len + " bytes is over the limit of " + limits.maxBytes());
            return;
        }
        int k = limits.topK();
        String q = ctx.queryParam("top_k");
        if (q != null) {
            try {
                k = Math.max(1, Math.min(classifier.labels().size(), Integer.parseInt(q)));
            } catch (NumberFormatException e) {
                close(ctx);
                error(ctx, 400, "top_k must be an integer");
                return;
            }
        }
        boolean explain = isTrue(ctx.queryParam("explain"));
        if (explain && !limits.explain()) {
            close(ctx);
            error(ctx, 403, "heat maps (?explain=1) are turned off on this server (serve --no-explain); ask without explain=1");
            return;
        }
        boolean explainPermit = false;
        if (explain && classifier.explains()) {
            if (!explainSlots.tryAcquire()) {
                busy(ctx, 2, "busy: " + limits.explainConcurrent() + " heat map(s) (?explain=1) are being computed, the most this server "
                        + "computes at once; try again, or ask without explain=1");
                return;
            }
            explainPermit = true;
        }
        long need = declared >= 0 ? declared : limits.maxBytes();
        if (held.get() + need > limits.uploadMemory()) {
            if (explainPermit) {
                explainSlots.release();
            }
            busy(ctx, 1, "busy: the uploads being received and waiting hold " + mb(held.get()) + " of this server's " + mb(limits.uploadMemory())
                    + " for uploads; try again");
            return;
        }
        Upload u = new Upload(ctx, id, len, declared, k, explain, explainPermit);
        ctx.future(u::start);
    }

    /**
     * One POST /predict from its headers to its answer: received asynchronously (no thread while waiting for bytes),
     * within the deadline and the memory budget; then decoded and predicted on a prediction thread; answered once.
     */
    private final class Upload implements ReadListener {
        final Context ctx;
        final String id;
        final String contentLength;
        final long declared;
        final int k;
        final boolean explain;
        boolean explainPermit;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final AtomicBoolean answered = new AtomicBoolean();
        final AtomicBoolean receiving = new AtomicBoolean(true);
        final List<byte[]> chunks = new ArrayList<>();
        byte[] chunk;
        int pos;
        long received;
        long reserved;
        ServletInputStream in;
        ScheduledFuture<?> deadline;

        Upload(Context ctx, String id, String contentLength, long declared, int k, boolean explain, boolean explainPermit) {
            this.ctx = ctx;
            this.id = id;
            this.contentLength = contentLength;
            this.declared = declared;
            this.k = k;
            this.explain = explain;
            this.explainPermit = explainPermit;
        }

        CompletableFuture<Void> start() {
            try {
                deadline = timer.schedule(this::deadlinePassed, limits.requestMillis(), TimeUnit.MILLISECONDS);
                in = ctx.req().getInputStream();
                in.setReadListener(this);
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
            return done;
        }

        @Override
        public synchronized void onDataAvailable() throws IOException {
            while (!answered.get() && in.isReady()) {
                if (chunk == null || pos == chunk.length) {
                    // chunks grow from 4 KB to 1 MB: a client that sends a few bytes holds a few KB
                    int size = (int) Math.min(1 << 20, Math.max(4096, received));
                    if (declared >= 0) {
                        size = (int) Math.max(1, Math.min(size, declared + 1 - received));
                    }
                    if (!reserve(size)) {
                        busy(1, "busy: the uploads being received and waiting hold " + mb(held.get()) + " of this server's "
                                + mb(limits.uploadMemory()) + " for uploads; try again");
                        return;
                    }
                    if (chunk != null) {
                        chunks.add(chunk);
                    }
                    chunk = new byte[size];
                    pos = 0;
                }
                int n = in.read(chunk, pos, chunk.length - pos);
                if (n < 0) {
                    return; // onAllDataRead follows
                }
                pos += n;
                received += n;
                if (received > limits.maxBytes()) {
                    answer(413, Json.object().put("error", "upload is over the limit of " + limits.maxBytes() + " bytes"), true);
                    return;
                }
            }
        }

        @Override
        public synchronized void onAllDataRead() {
            if (!receiving.compareAndSet(true, false)) {
                return;
            }
            deadline.cancel(false);
            if (received == 0) {
                answer(400, Json.object().put("error", "empty request: send the image as the body, or as a multipart field named \"image\""), false);
                return;
            }
            byte[] body = new byte[(int) received];
            int at = 0;
            for (byte[] c : chunks) {
                System.arraycopy(c, 0, body, at, c.length);
                at += c.length;
            }
            System.arraycopy(chunk, 0, body, at, pos);
            chunks.clear();
            chunk = null;
            long exact = received;
            held.addAndGet(exact - reserved); // the joined body replaces the chunks
            reserved = exact;
            try {
                work.execute(() -> run(body));
            } catch (RejectedExecutionException e) {
                busy(1, "busy: " + limits.maxConcurrent() + " prediction(s) are running and " + limits.maxQueued()
                        + " are waiting, the most this server queues; try again");
            }
        }

        @Override
        public void onError(Throwable t) {
            if (!receiving.compareAndSet(true, false)) {
                return;
            }
            fail(t);
        }

        private void deadlinePassed() {
            if (!receiving.compareAndSet(true, false)) {
                return;
            }
            answer(408, Json.object().put("error", "the upload did not arrive whole within " + seconds(limits.requestMillis()) + " ("
                    + received + " of " + (declared >= 0 ? declared + " bytes" : "its bytes") + " came); send the whole file at once"), true);
        }

        /** Reading failed: a stall is 408, a size over the limit 413, anything else 400. */
        private void fail(Throwable e) {
            receiving.set(false);
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof TimeoutException || String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
                    answer(408, Json.object().put("error", "the upload stopped before its end" + (contentLength != null ? " (Content-Length "
                            + contentLength + " bytes)" : "") + " and nothing more came for " + seconds(limits.readMillis())
                            + "; send the whole file"), true);
                    return;
                }
            }
            answer(400, Json.object().put("error", "could not read the upload: the request ended early or is not well-formed"), true);
        }

        private boolean reserve(long bytes) {
            while (true) {
                long h = held.get();
                if (h + bytes > limits.uploadMemory()) {
                    return false;
                }
                if (held.compareAndSet(h, h + bytes)) {
                    reserved += bytes;
                    return true;
                }
            }
        }

        /** Decode, predict, explain: on a prediction thread, holding a slot for decode and prediction only. */
        private void run(byte[] body) {
            try {
                String type = ctx.contentType();
                String name = "upload";
                byte[] image = body;
                if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
                    Part p = part(type, body);
                    if (p.error() != null) {
                        answer(400, Json.object().put("error", p.error()), false);
                        return;
                    }
                    name = p.name();
                    image = p.bytes();
                }
                if (image.length == 0) {
                    answer(400, Json.object().put("error", "empty request: send the image as the body, or as a multipart field named \"image\""), false);
                    return;
                }
                if (!slots.tryAcquire(limits.queueMillis(), TimeUnit.MILLISECONDS)) {
                    busy(1, "busy: " + limits.maxConcurrent() + " prediction(s) are running and a slot did not come free within "
                            + seconds(limits.queueMillis()) + "; try again");
                    return;
                }
                RgbImage img;
                List<Classifier.Prediction> preds;
                try {
                    img = decoder.decode(Path.of("upload"), image);
                    image = null;
                    releaseBytes(); // the decoded, reduced image replaces the upload's bytes
                    preds = classifier.predict(List.of(img), k).get(0);
                } finally {
                    slots.release();
                }
                var answer = PredictionJson.of(name, preds);
                if (explain) {
                    if (classifier.explains()) {
                        // its own budget (taken with the request), outside the prediction slots
                        answer.put("heatmap", dev.graft.report.HeatMaps.dataUri(classifier.explain(img, preds.get(0).index())));
                    } else {
                        answer.put("heatmap_error", "this model's architecture has no feature map for Grad-CAM");
                    }
                }
                answer(200, answer, false);
            } catch (BadImageException e) {
                answer(e.reason().contains("over the limit") ? 413 : 400, Json.object().put("error", "not a usable image: " + e.reason()), false);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                busy(1, "the server is shutting down");
            } catch (Throwable e) {
                logInternal(id, ctx, e);
                answer(500, internalJson(id), false);
            }
        }

        private void busy(int retryAfter, String message) {
            ctx.header("Retry-After", Integer.toString(retryAfter));
            answer(503, Json.object().put("error", message), true);
        }

        private synchronized void releaseBytes() {
            held.addAndGet(-reserved);
            reserved = 0;
        }

        /** The answer, once: whoever comes first (the deadline, a read error, the prediction) answers. */
        private void answer(int status, Object body, boolean closeConnection) {
            if (!answered.compareAndSet(false, true)) {
                return;
            }
            receiving.set(false);
            if (deadline != null) {
                deadline.cancel(false);
            }
            synchronized (this) { // a read callback may be between two reads
                chunks.clear();
                chunk = null;
                releaseBytes();
            }
            if (explainPermit) {
                explainPermit = false;
                explainSlots.release();
            }
            if (closeConnection) {
                close(ctx); // the rest of the body is not read: the connection cannot carry another request
            }
            json(ctx, status, body);
            done.complete(null);
        }
    }

    /** A multipart upload's file: its bytes and name, or why there is none. */
    private record Part(byte[] bytes, String name, String error) {
    }

    /** The image of a multipart body: the field "image", else "file", else the first part. */
    private Part part(String contentType, byte[] body) {
        String boundary = MultiPart.extractBoundary(contentType);
        if (boundary == null || boundary.isEmpty()) {
            return new Part(null, null, "multipart request without a boundary in its Content-Type");
        }
        MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
        parser.setMaxParts(32);
        parser.setMaxLength(limits.maxBytes());
        parser.setMaxFileSize(limits.maxBytes());
        parser.setMaxMemoryFileSize(limits.maxBytes());
        MultiPartFormData.Parts parts;
        try {
            parts = parser.parse(Content.Source.from(ByteBuffer.wrap(body))).join();
        } catch (CompletionException | IllegalStateException | IllegalArgumentException e) {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            return new Part(null, null, "the multipart body is not well-formed (" + describe(c) + ")");
        }
        try (parts) {
            MultiPart.Part f = parts.getFirst("image");
            if (f == null) {
                f = parts.getFirst("file");
            }
            if (f == null && parts.size() > 0) {
                f = parts.get(0);
            }
            if (f == null) {
                return new Part(null, null, "multipart request has no file (use the field name \"image\")");
            }
            String name = f.getFileName() != null ? f.getFileName() : "upload";
            for (int i = 0; i < name.length(); i++) {
                if (Character.isISOControl(name.charAt(i))) {
                    return new Part(null, null, "the file name of the upload holds a control character (" + (name.charAt(i) == 0 ? "NUL"
                            : String.format(Locale.ROOT, "U+%04X", (int) name.charAt(i))) + "); send it under a plain name");
                }
            }
            ByteBuffer b = Content.Source.asByteBuffer(f.getContentSource());
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return new Part(bytes, name, null);
        } catch (IOException | RuntimeException e) {
            return new Part(null, null, "the multipart body is not well-formed (" + describe(e) + ")");
        }
    }

    /** An exception's message for a client: no class names, no status prefix. */
    private static String describe(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return "unreadable";
        }
        m = m.replaceAll("\\b(java|javax|jakarta|org\\.eclipse|io\\.javalin)\\.[\\w.$]+:?\\s*", "").replaceFirst("^\\d{3}: ", "");
        return m.equals("invalid byte 0") ? "a NUL byte in a part's headers, e.g. in its file name" : m;
    }

    private void internalError(Context ctx, Exception e) {
        String id = ctx.attribute(REQUEST_ID);
        if (id == null) {
            id = newRequestId();
        }
        logInternal(id, ctx, e);
        ctx.header("X-Request-Id", id);
        json(ctx, 500, internalJson(id));
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode internalJson(String id) {
        return Json.object().put("error", "internal error (request " + id + ", in the server's log); the server goes on serving")
                .put("request_id", id);
    }

    private void logInternal(String id, Context ctx, Throwable e) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        log.accept("graft serve: internal error in request " + id + " (" + ctx.method() + " " + ctx.path() + "): " + trace.toString().stripTrailing());
    }

    private static void close(Context ctx) {
        ctx.header("Connection", "close");
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static String seconds(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private void busy(Context ctx, int retryAfter, String message) {
        close(ctx);
        ctx.header("Retry-After", Integer.toString(retryAfter));
        error(ctx, 503, message);
    }

    private static boolean isTrue(String q) {
        return q != null && (q.equals("1") || q.equalsIgnoreCase("true") || q.equalsIgnoreCase("yes"));
    }

    private static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.compact(body));
    }

    private static void error(Context ctx, int status, String message) {
        json(ctx, status, Json.object().put("error", message));
    }

    private static String loadPage() {
        try (InputStream in = Server.class.getResourceAsStream("/dev/graft/app/serve.html")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
