package dev.graft.data;

import java.nio.file.Path;

/** An image file that cannot be used; the message names the file and what is wrong with it. */
public class BadImageException extends Exception {
    private final Path file;
    private final String reason;

    public BadImageException(Path file, String reason) {
        super(file + ": " + reason);
        this.file = file;
        this.reason = reason;
    }

    public BadImageException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    public Path file() {
        return file;
    }

    public String reason() {
        return reason;
    }
}
