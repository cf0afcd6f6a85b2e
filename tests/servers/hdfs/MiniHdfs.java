import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS for the collector's tests: Hadoop's MiniDFSCluster (one NameNode, DataNodes, WebHDFS on) in one
 * JVM, on 127.0.0.1 ports the caller chose, so that a stopped and restarted NameNode keeps its address.
 *
 * <p>Usage: {@code java -cp 'JARS/*:CLASSES' MiniHdfs BASE_DIR RPC_PORT HTTP_PORT DATANODES}. Once the cluster is
 * up it prints {@code READY rpc=<port> http=<port> superuser=<name>} on stdout, then reads commands from stdin,
 * answering each with one line: {@code stop-namenode} ({@code OK namenode stopped}), {@code start-namenode}
 * ({@code OK namenode started}, once it is out of safe mode). End of input or {@code quit} shuts it down.
 *
 * <p>The lease soft limit is {@value #LEASE_SOFT_MS} ms here, not HDFS's 60 s: a file whose append was cut off
 * by a NameNode stop stays locked until its lease expires, and the tests that recover such a file would
 * otherwise wait a minute each. The hard limit keeps its default (20 minutes).
 */
public final class MiniHdfs {
  private static final long LEASE_SOFT_MS = 5_000;
  private static final long LEASE_HARD_MS = 20 * 60 * 1_000;

  private MiniHdfs() {}

  public static void main(String[] args) throws Exception {
    File base = new File(args[0]);
    int rpcPort = Integer.parseInt(args[1]);
    int httpPort = Integer.parseInt(args[2]);
    int dataNodes = Integer.parseInt(args[3]);

    Configuration conf = new Configuration();
    conf.set("hadoop.tmp.dir", new File(base, "tmp").getAbsolutePath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setBoolean("dfs.permissions.enabled", true);
    // Files may ask for more replicas than the DataNodes here; appends must not then look for a replacement.
    conf.setBoolean("dfs.client.block.write.replace-datanode-on-failure.enable", false);
    conf.setInt("dfs.namenode.safemode.extension", 0);
    conf.setInt("dfs.heartbeat.interval", 1);
    conf.setInt("dfs.namenode.heartbeat.recheck-interval", 2000);
    // A restarted NameNode must be found again quickly by the DataNodes (they retry their RPCs).
    conf.setInt("ipc.client.connect.max.retries", 2);
    conf.setInt("ipc.client.connect.retry.interval", 200);
    // An idle pooled connection to a NameNode that stopped is not noticed until used: the DataNode's first
    // WebHDFS call after a restart failed with EOFException. Closing idle connections after 500 ms avoids that.
    conf.setInt("ipc.client.connection.maxidletime", 500);
    // An HttpFS gateway in front of this cluster runs as this OS user and acts for the user of each request.
    String self = System.getProperty("user.name");
    conf.set("hadoop.proxyuser." + self + ".hosts", "*");
    conf.set("hadoop.proxyuser." + self + ".groups", "*");
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:" + rpcPort);
    conf.set("dfs.namenode.http-address", "127.0.0.1:" + httpPort);
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, new File(base, "cluster"))
        .nameNodePort(rpcPort)
        .nameNodeHttpPort(httpPort)
        .numDataNodes(dataNodes)
        .format(true)
        .checkExitOnShutdown(false)
        .build();
    cluster.waitActive();
    cluster.setLeasePeriod(LEASE_SOFT_MS, LEASE_HARD_MS);
    System.out.println("READY rpc=" + cluster.getNameNodePort() + " http=" + httpPort
        + " superuser=" + self);
    System.out.flush();

    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    try {
      while ((line = commands.readLine()) != null) {
        String command = line.trim();
        try {
          if (command.equals("stop-namenode")) {
            cluster.shutdownNameNode(0);
            System.out.println("OK namenode stopped");
          } else if (command.equals("start-namenode")) {
            cluster.restartNameNode(0, true);
            cluster.waitActive();
            cluster.setLeasePeriod(LEASE_SOFT_MS, LEASE_HARD_MS);  // a new NameNode starts with the defaults
            System.out.println("OK namenode started");
          } else if (command.equals("quit")) {
            break;
          } else if (!command.isEmpty()) {
            System.out.println("ERROR unknown command: " + command);
          }
        } catch (Exception e) {
          System.out.println("ERROR " + e.toString().replace('\n', ' '));
        }
        System.out.flush();
      }
    } finally {
      cluster.shutdown(true);
    }
    System.exit(0);
  }
}
