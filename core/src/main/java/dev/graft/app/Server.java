package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.data.ImageDecoder;
import dev.graft.util.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
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
 * Large photos are decoded at a reduced scale, with the pixel limit read from the header before decoding. Each bound
 * is one class: {@link Upload} (receiving within the deadline), {@link UploadMemory}, {@link Predictions} (slots and
 * queue), {@link ExplainBudget}, {@link MultipartImage} (the file of a form), {@link Answers} (JSON answers, request ids,
 * logged 500s); this class holds the routes and admits each request.
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

    private final Classifier classifier;
    private final Limits limits;
    private final Answers answers;
    private final UploadMemory memory;
    private final ExplainBudget explainBudget;
    private final Predictions predictions;
    private final ScheduledExecutorService timer;
    private final Upload.Bounds bounds;
    private final Javalin app;

    public Server(Classifier classifier, Limits limits) {
        this(classifier, limits, System.err::println);
    }

    /** @param log where internal errors go, each with its request id and stack trace */
    public Server(Classifier classifier, Limits limits, Consumer<String> log) {
        this.classifier = classifier;
        this.limits = limits;
        this.answers = new Answers(log);
        this.memory = new UploadMemory(limits.uploadMemory());
        this.explainBudget = new ExplainBudget(limits.explain(), limits.explainConcurrent());
        this.predictions = new Predictions(classifier, limits, answers);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "graft-deadlines");
            t.setDaemon(true);
            return t;
        });
        this.bounds = new Upload.Bounds(limits, memory, explainBudget, timer, predictions);
        String page = loadPage();
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
            config.routes.get("/health", ctx -> Answers.json(ctx, 200, Json.object().put("status", "ok")
                    .put("classes", classifier.labels().size()).put("explain", limits.explain() && classifier.explains())
                    .set("labels", Json.tree(classifier.labels()))));
            config.routes.post("/predict", this::predict);
            config.routes.error(404, "*", ctx -> Answers.error(ctx, 404, "no such page: " + ctx.method() + " " + ctx.path()
                    + "; this server answers GET /, GET /health and POST /predict"));
            config.routes.error(405, "*", ctx -> Answers.error(ctx, 405, ctx.method() + " is not allowed on " + ctx.path()
                    + (ctx.path().startsWith("/predict") ? "; send the image with POST" : "; use GET")));
            config.routes.exception(Exception.class, (e, ctx) -> answers.internalError(ctx, e));
        });
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
        return predictions.slots();
    }

    /** The Grad-CAM budget (tests hold it to see the busy answer). */
    Semaphore explainSlots() {
        return explainBudget.slots();
    }

    /** Bytes of uploads held now. */
    long heldBytes() {
        return memory.held();
    }

    @Override
    public void close() {
        app.stop();
        predictions.close();
        timer.shutdownNow();
    }

    /** Admits a POST /predict from its headers (size, top_k, explain, memory) and starts receiving its body. */
    private void predict(Context ctx) {
        String id = answers.newId(ctx);
        String len = ctx.header("Content-Length");
        long declared = len != null && len.matches("\\d{1,18}") ? Long.parseLong(len) : -1;
        if (declared > limits.maxBytes()) {
            Answers.close(ctx);
            Answers.error(ctx, 413, "request of " + len + " bytes is over the limit of " + limits.maxBytes());
            return;
        }
        int k = limits.topK();
        String q = ctx.queryParam("top_k");
        String e = ctx.queryParam("explain");
        boolean explain = e != null && (e.equals("1") || e.equalsIgnoreCase("true") || e.equalsIgnoreCase("yes"));
        boolean badTopK = false;
        if (q != null) {
            try {
                k = Math.max(1, Math.min(classifier.labels().size(), Integer.parseInt(q)));
            } catch (NumberFormatException notAnInteger) {
                badTopK = true;
            }
        }
        Upload u = new Upload(new Upload.Request(ctx, id, len, declared, k, explain), bounds);
        // refused from the headers: answered at once, and the body is read and dropped (see Upload.After.DRAIN)
        if (badTopK) {
            ctx.future(() -> u.refuse(400, Json.object().put("error", "top_k must be an integer")));
            return;
        }
        if (explain && !explainBudget.on()) {
            ctx.future(() -> u.refuse(403, Json.object().put("error", ExplainBudget.offMessage())));
            return;
        }
        if (explain && classifier.explains()) {
            if (!explainBudget.tryAcquire()) {
                ctx.header("Retry-After", "2");
                ctx.future(() -> u.refuse(503, Json.object().put("error", explainBudget.busyMessage())));
                return;
            }
            u.holdExplainPermit();
        }
        if (!memory.fits(declared >= 0 ? declared : limits.maxBytes())) {
            ctx.header("Retry-After", "1");
            ctx.future(() -> u.refuse(503, Json.object().put("error", memory.busyMessage())));
            return;
        }
        ctx.future(u::start);
    }

    private static String loadPage() {
        try (InputStream in = Server.class.getResourceAsStream("/dev/graft/app/serve.html")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
