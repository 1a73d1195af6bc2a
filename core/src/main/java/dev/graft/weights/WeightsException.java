package dev.graft.weights;

/** A weight file that cannot be used; the message names the file and what is wrong with it. */
public class WeightsException extends RuntimeException {
    private final String file;

    public WeightsException(String file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public WeightsException(String file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public String file() {
        return file;
    }
}
