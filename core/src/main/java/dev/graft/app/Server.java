package dev.graft.app;

import dev.graft.data.BadImageException;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.util.Json;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP service around a {@link Classifier}: {@code POST /predict} (raw image body or multipart field "image"/"file")
 * returns the top-k as JSON (with {@code ?explain=1} also a Grad-CAM heat map as a PNG data URI), {@code GET /} is a page to pick or drop an image, {@code GET /health} says it is up.
 * Request size, decoded pixels (from the header, before decoding) and concurrent decodes and predictions are
 * limited; large photos are decoded at a reduced scale. Every error is JSON {@code {"error": ...}} with its status
 * (400, 404, 405, 408, 413, 503) and a message a user can act on.
 */
public final class Server implements AutoCloseable {
    /**
     * Limits of one server.
     *
     * @param maxBytes      largest request body
     * @param maxConcurrent decodes and predictions at once (a request holds a slot for both)
     * @param queueMillis   how long a request waits for a slot before 503
     * @param topK          classes per answer unless the request asks (?top_k=)
     * @param maxPixels     largest image, read from its header before decoding
     * @param readMillis    how long an upload may stall before 408
     */
    public record Limits(long maxBytes, int maxConcurrent, long queueMillis, int topK, long maxPixels, long readMillis) {
        public static Limits defaults() {
            return new Limits(20L << 20, Math.max(1, Runtime.getRuntime().availableProcessors()), 10_000, 5,
                    ImageDecoder.SERVING_MAX_PIXELS, 30_000);
        }
    }

    private final Classifier classifier;
    private final Limits limits;
    private final Semaphore slots;
    private final ImageDecoder decoder;
    private final Javalin app;
    private final String page;

    public Server(Classifier classifier, Limits limits) {
        this.classifier = classifier;
        this.limits = limits;
        this.slots = new Semaphore(limits.maxConcurrent(), true);
        // a photo far larger than the model's input is decoded at a reduced scale: less memory and time per request
        this.decoder = new ImageDecoder(limits.maxPixels(), classifier.preprocessing().resize());
        this.page = loadPage();
        this.app = Javalin.create(config -> {
            config.http.maxRequestSize = limits.maxBytes();
            config.http.prefer405over404 = true;
            config.jetty.multipartConfig.maxFileSize(limits.maxBytes(), SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(limits.maxBytes(), SizeUnit.BYTES);
            config.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(Integer.MAX_VALUE, limits.maxBytes()), SizeUnit.BYTES);
            config.jetty.modifyHttpConfiguration(http -> http.setIdleTimeout(limits.readMillis()));
            config.startup.showJavalinBanner = false;
            config.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
            config.routes.get("/health", ctx -> json(ctx, 200, Json.object().put("status", "ok")
                    .put("classes", classifier.labels().size()).set("labels", Json.tree(classifier.labels()))));
            config.routes.post("/predict", this::predict);
            config.routes.error(404, "*", ctx -> error(ctx, 404, "no such page: " + ctx.method() + " " + ctx.path()
                    + "; this server answers GET /, GET /health and POST /predict"));
            config.routes.error(405, "*", ctx -> error(ctx, 405, ctx.method() + " is not allowed on " + ctx.path()
                    + (ctx.path().startsWith("/predict") ? "; send the image with POST" : "; use GET")));
            config.routes.exception(Exception.class, (e, ctx) -> error(ctx, 500, "internal error; the server goes on serving"));
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
        return slots;
    }

    @Override
    public void close() {
        app.stop();
    }

    private void predict(Context ctx) throws InterruptedException {
        String len = ctx.header("Content-Length");
        if (len != null && len.matches("\\d+") && Long.parseLong(len) > limits.maxBytes()) {
            error(ctx, 413, "request of " + len + " bytes is over the limit of " + limits.maxBytes());
            return;
        }
        int k = limits.topK();
        String q = ctx.queryParam("top_k");
        if (q != null) {
            try {
                k = Math.max(1, Math.min(classifier.labels().size(), Integer.parseInt(q)));
            } catch (NumberFormatException e) {
                error(ctx, 400, "top_k must be an integer");
                return;
            }
        }
        byte[] bytes;
        String name = "upload";
        try {
            String type = ctx.contentType();
            if (type != null && type.startsWith("multipart/form-data")) {
                UploadedFile f = ctx.uploadedFile("image");
                if (f == null) {
                    f = ctx.uploadedFile("file");
                }
                if (f == null) {
                    List<UploadedFile> all = ctx.uploadedFiles();
                    f = all.isEmpty() ? null : all.get(0);
                }
                if (f == null) {
                    error(ctx, 400, "multipart request has no file (use the field name \"image\")");
                    return;
                }
                name = f.filename();
                try (InputStream in = f.content()) {
                    bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE, limits.maxBytes() + 1));
                }
            } else {
                bytes = ctx.bodyAsBytes();
            }
        } catch (IOException | RuntimeException e) {
            uploadFailed(ctx, e, len);
            return;
        }
        if (bytes.length > limits.maxBytes()) {
            error(ctx, 413, "upload is over the limit of " + limits.maxBytes() + " bytes");
            return;
        }
        if (bytes.length == 0) {
            error(ctx, 400, "empty request: send the image as the body, or as a multipart field named \"image\"");
            return;
        }
        if (!slots.tryAcquire(limits.queueMillis(), TimeUnit.MILLISECONDS)) {
            ctx.header("Retry-After", "1");
            error(ctx, 503, "busy: " + limits.maxConcurrent() + " predictions are running; try again");
            return;
        }
        try {
            RgbImage img = decoder.decode(Path.of(name.isBlank() ? "upload" : name), bytes);
            List<Classifier.Prediction> preds = classifier.predict(List.of(img), k).get(0);
            var answer = PredictionJson.of(name, preds);
            if (isTrue(ctx.queryParam("explain"))) {
                if (classifier.explains()) {
                    answer.put("heatmap", dev.graft.report.HeatMaps.dataUri(classifier.explain(img, preds.get(0).index())));
                } else {
                    answer.put("heatmap_error", "this model's architecture has no feature map for Grad-CAM");
                }
            }
            json(ctx, 200, answer);
        } catch (BadImageException e) {
            error(ctx, e.reason().contains("over the limit") ? 413 : 400, "not a usable image: " + e.reason());
        } finally {
            slots.release();
        }
    }

    private static boolean isTrue(String q) {
        return q != null && (q.equals("1") || q.equalsIgnoreCase("true") || q.equalsIgnoreCase("yes"));
    }

    /** Why reading an upload failed, in words: a stalled upload is 408, a size over the limit 413, anything else 400. */
    private void uploadFailed(Context ctx, Throwable e, String contentLength) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
                error(ctx, 408, "the upload stopped before its end" + (contentLength != null ? " (Content-Length " + contentLength
                        + " bytes)" : "") + " and nothing more came for " + limits.readMillis() / 1000 + " s; send the whole file");
                return;
            }
            String msg = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
            if (msg.contains("size") || msg.contains("too large") || msg.contains("exceed")) {
                error(ctx, 413, "upload is over the limit of " + limits.maxBytes() + " bytes");
                return;
            }
        }
        error(ctx, 400, "could not read the upload: the request ended early or is not well-formed");
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
