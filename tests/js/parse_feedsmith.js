// Parse a feed with feedsmith (a second, independent parser: it reads psc:chapters, spotify:,
// podcast:image, podcast:podping, which podcast-partytime does not) and print it as JSON.
// Usage: node parse_feedsmith.js feed.xml
const fs = require("fs");
const { parseRssFeed } = require("feedsmith");
const feed = parseRssFeed(fs.readFileSync(process.argv[2], "utf8"));
if (!feed) { console.error("not a feed"); process.exit(2); }
process.stdout.write("\n@@JSON@@" + JSON.stringify(feed) + "\n");
