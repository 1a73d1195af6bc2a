package dev.graft.spark;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.IOException;
import java.net.URI;

/**
 * A Hadoop file system under its own scheme ({@code testfs:///abs/path}) backed by the local disk: the jobs' paths for
 * remote file systems (Hadoop listing and reading, bundles shipped with addFile) run against it as against HDFS or S3.
 */
public class TestFs extends RawLocalFileSystem {
    @Override
    public URI getUri() {
        return URI.create("testfs:///");
    }

    @Override
    public String getScheme() {
        return "testfs";
    }

    @Override
    public FileStatus getFileStatus(Path p) throws IOException {
        return plain(super.getFileStatus(p));
    }

    @Override
    public FileStatus[] listStatus(Path p) throws IOException {
        FileStatus[] in = super.listStatus(p);
        FileStatus[] out = new FileStatus[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = plain(in[i]);
        }
        return out;
    }

    /** The local file system's statuses look their permissions up through file: URIs; these carry them. */
    private static FileStatus plain(FileStatus s) {
        return new FileStatus(s.getLen(), s.isDirectory(), 1, s.getBlockSize(), s.getModificationTime(), s.getAccessTime(),
                s.isDirectory() ? FsPermission.getDirDefault() : FsPermission.getFileDefault(), "test", "test", s.getPath());
    }
}
