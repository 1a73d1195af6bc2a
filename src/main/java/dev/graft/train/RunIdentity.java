package dev.graft.train;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.data.DataSplits;
import dev.graft.data.ImageFolder;
import dev.graft.util.Json;

import java.io.IOException;
import java.nio.file.Files;

/**
 * What a run trains on, saved in its checkpoint so a resume can tell when it changed: the classes in label order,
 * every training and validation image (path relative to the training folder, and size), and the recipe.
 */
final class RunIdentity {
    private RunIdentity() {
    }

    static ObjectNode of(DataSplits data, Recipe recipe) {
        ObjectNode n = Json.object();
        n.set("classes", Json.tree(data.classes()));
        ArrayNode files = n.putArray("train_files");
        for (ImageFolder f : data.validation() == null ? java.util.List.of(data.train()) : java.util.List.of(data.train(), data.validation())) {
            for (ImageFolder.Sample s : f.samples()) {
                long size;
                try {
                    size = Files.size(s.path());
                } catch (IOException e) {
                    size = -1;
                }
                files.add(f.dir().relativize(s.path()) + "\t" + size);
            }
        }
        n.set("recipe", Json.tree(recipe));
        return n;
    }
}
