// @ts-check
/**
 * Stand-in for mcr.microsoft.com/azuredocs/aci-helloworld (and nginx): serves a welcome
 * page. The emulator tells it where to listen: ACI_EMULATOR_IP and ACI_EMULATOR_PORTS
 * ("80=80" or "80=41873": the container port, then the port actually bound).
 */
import http from "node:http";

const ip = process.env.ACI_EMULATOR_IP || "127.0.0.1";
const mapping = (process.env.ACI_EMULATOR_PORTS || "").split(",").filter(Boolean).map((p) => p.split("=").map(Number));
const port = mapping.length > 0 ? mapping[0][1] : Number(process.env.PORT || 80);
const title = process.env.ACI_EMULATOR_PAGE_TITLE || "Welcome to Azure Container Instances!";

const page = `<html>
<head><title>${title}</title></head>
<body style="font-family: sans-serif; text-align: center">
<h1>${title}</h1>
<p>This page is served by the ACI emulator's stand-in image.</p>
</body>
</html>
`;

const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(page);
  console.log(`${req.socket.remoteAddress} - - [${new Date().toUTCString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" 200 ${Buffer.byteLength(page)}`);
});
server.listen(port, ip, () => console.log(`listening on port ${mapping.length > 0 ? mapping[0][0] : port}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
