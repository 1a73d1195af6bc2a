package dev.graft.app;

import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.CompletionException;

/**
 * The image of a multipart upload (the field "image", else "file", else the first part), parsed from the body
 * already received, with Jetty's parser bounded to the server's limits. A malformed body, a missing file or a file
 * name holding a control character (NUL included) is a reason for a 400, never an exception.
 *
 * @param bytes the file's bytes (null when {@code error} says why there are none)
 * @param name  the file's name as the client gave it, or "upload"
 * @param error why there is no usable file, for the client; null when there is one
 */
record MultipartImage(byte[] bytes, String name, String error) {
    static MultipartImage of(String contentType, byte[] body, long maxBytes) {
        String boundary = MultiPart.extractBoundary(contentType);
        if (boundary == null || boundary.isEmpty()) {
            return refused("multipart request without a boundary in its Content-Type");
        }
        MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
        parser.setMaxParts(32);
        parser.setMaxLength(maxBytes);
        parser.setMaxFileSize(maxBytes);
        parser.setMaxMemoryFileSize(maxBytes);
        MultiPartFormData.Parts parts;
        try {
            parts = parser.parse(Content.Source.from(ByteBuffer.wrap(body))).join();
        } catch (CompletionException | IllegalStateException | IllegalArgumentException e) {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            return refused("the multipart body is not well-formed (" + Answers.describe(c) + ")");
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
                return refused("multipart request has no file (use the field name \"image\")");
            }
            String name = f.getFileName() != null ? f.getFileName() : "upload";
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (Character.isISOControl(c)) {
                    return refused("the file name of the upload holds a control character (" + (c == 0 ? "NUL"
                            : String.format(Locale.ROOT, "U+%04X", (int) c)) + "); send it under a plain name");
                }
            }
            ByteBuffer b = Content.Source.asByteBuffer(f.getContentSource());
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return new MultipartImage(bytes, name, null);
        } catch (IOException | RuntimeException e) {
            return refused("the multipart body is not well-formed (" + Answers.describe(e) + ")");
        }
    }

    private static MultipartImage refused(String why) {
        return new MultipartImage(null, null, why);
    }
}
