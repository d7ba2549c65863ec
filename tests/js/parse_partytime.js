// Parse a feed with podcast-partytime (Podcast Index's parser) and print it as JSON.
// Usage: node parse_partytime.js feed.xml
const fs = require("fs");
const { parseFeed } = require("podcast-partytime");
const feed = parseFeed(fs.readFileSync(process.argv[2], "utf8"), { allowMissingGuid: false });
if (!feed) { console.error("not a feed"); process.exit(2); }
const { items, ...channel } = feed;
process.stdout.write("\n@@JSON@@" + JSON.stringify({ channel, items }) + "\n");
