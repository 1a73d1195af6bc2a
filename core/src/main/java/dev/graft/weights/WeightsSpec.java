package dev.graft.weights;

import dev.graft.data.Preprocessing;

/**
 * Pretrained weights of a zoo entry: where they come from, the preprocessing they were trained with, the
 * classifier to cut off, and the labels of the source classes. Architectures declare theirs (model package).
 *
 * @param name          zoo name ("resnet18", "mobilenet_v1_0.75"), also the cache folder of the download
 * @param format        file format of the weights
 * @param url           download address (for TF.js: the model.json; shards sit beside it)
 * @param checksum      expected digest, or null where upstream publishes none
 * @param preprocessing what the weights expect of their input
 * @param classifier    name (torchvision: parameter prefix such as "fc."; Keras: layer name) of the source classifier
 * @param labels        "imagenet" for torchvision's class names, "file" when they come with the weights
 */
public record WeightsSpec(String name, Format format, String url, Checksum checksum,
                          Preprocessing preprocessing, String classifier, String labels) {

    public enum Format {
        PTH, SAFETENSORS, TFJS, H5;

        /** Guesses a local file's format from its name. */
        public static Format of(java.nio.file.Path p) {
            String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            if (n.endsWith(".safetensors")) {
                return SAFETENSORS;
            }
            if (n.endsWith(".json") || java.nio.file.Files.isDirectory(p)) {
                return TFJS;
            }
            if (n.endsWith(".h5") || n.endsWith(".hdf5")) {
                return H5;
            }
            if (n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".bin") || n.endsWith(".ckpt")) {
                return PTH;
            }
            throw new IllegalArgumentException("cannot tell the format of " + p + " from its name; graft reads "
                    + ".pth/.pt (torch), .safetensors, Keras .h5, and TF.js layers models (model.json or its folder)");
        }
    }

    /** The cache sub-folder and file name a download goes to. */
    public String cacheName() {
        int slash = url.lastIndexOf('/');
        return url.substring(slash + 1);
    }
}
