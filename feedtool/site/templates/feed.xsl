<?xml version="1.0" encoding="utf-8"?>
<!-- What a browser shows for the feed: the show, how to follow it, its episodes. Apps ignore it.
     Made by feedtool from episodes/theme/feed.xsl or feedtool's own (feedtool/site/templates). -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="itunes atom">
<xsl:output method="html" encoding="utf-8" indent="no" doctype-system="about:legacy-compat"/>

<xsl:template match="/rss/channel">
<html lang="{language}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="title"/> · podcast feed</title>
<link rel="stylesheet" href="{{ assets['style.css'] }}"/>
<link rel="icon" href="{{ assets['icon.png'] }}" type="image/png"/>
</head>
<body>
<header class="site-header"><a class="site-title" href="{{ show.site_url }}"><xsl:value-of select="title"/></a></header>
<main>
<p class="kicker">This is the podcast’s feed: the address podcast apps follow.</p>
<section class="show">
<img class="cover" src="{itunes:image/@href}" alt="Cover art" width="160" height="160"/>
<div>
<h1><xsl:value-of select="title"/></h1>
<p class="author">by <xsl:value-of select="itunes:author"/></p>
<p><xsl:call-template name="plain"><xsl:with-param name="html" select="description"/></xsl:call-template></p>
</div>
</section>
<section class="subscribe">
<h2>Follow the show</h2>
<ul class="apps">
{% for link in show.subscribe if link.key != "rss" %}
<li><a class="app app-{{ link.key }}" href="{{ link.url }}">{{ link.app }}</a></li>
{% endfor %}
</ul>
<p class="feed-address">In any other podcast app, choose “add by URL” (or “follow a show by URL”) and paste this page’s address: <code><xsl:value-of select="atom:link[@rel='self']/@href"/></code></p>
</section>
<section class="episodes">
<h2>Episodes</h2>
<ol class="episode-list">
<xsl:for-each select="item">
<li><article>
<h3><xsl:choose>
<xsl:when test="link"><a href="{link}"><xsl:value-of select="title"/></a></xsl:when>
<xsl:otherwise><xsl:value-of select="title"/></xsl:otherwise>
</xsl:choose></h3>
<p class="meta"><xsl:value-of select="substring(pubDate, 6, 11)"/>
<xsl:if test="itunes:duration &gt;= 60"> · <xsl:value-of select="round(itunes:duration div 60)"/> min</xsl:if>
<xsl:if test="itunes:duration &lt; 60"> · <xsl:value-of select="itunes:duration"/> s</xsl:if>
· <a href="{enclosure/@url}">Listen</a></p>
</article></li>
</xsl:for-each>
</ol>
</section>
</main>
</body>
</html>
</xsl:template>

<!-- Text of an HTML description: tags dropped, entities read (XSLT 1.0 has no HTML parser). -->
<xsl:template name="plain">
<xsl:param name="html"/>
<xsl:choose>
<xsl:when test="contains($html, '&lt;')">
<xsl:call-template name="entities"><xsl:with-param name="text" select="substring-before($html, '&lt;')"/></xsl:call-template>
<xsl:call-template name="plain">
<xsl:with-param name="html" select="substring-after(substring-after($html, '&lt;'), '&gt;')"/>
</xsl:call-template>
</xsl:when>
<xsl:otherwise><xsl:call-template name="entities"><xsl:with-param name="text" select="$html"/></xsl:call-template></xsl:otherwise>
</xsl:choose>
</xsl:template>

<xsl:template name="entities">
<xsl:param name="text"/>
<xsl:choose>
<xsl:when test="contains($text, '&amp;')">
<xsl:value-of select="substring-before($text, '&amp;')"/>
<xsl:variable name="rest" select="substring-after($text, '&amp;')"/>
<xsl:choose>
<xsl:when test="starts-with($rest, 'amp;')">&amp;<xsl:call-template name="entities"><xsl:with-param name="text" select="substring($rest, 5)"/></xsl:call-template></xsl:when>
<xsl:when test="starts-with($rest, 'lt;')">&lt;<xsl:call-template name="entities"><xsl:with-param name="text" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
<xsl:when test="starts-with($rest, 'gt;')">&gt;<xsl:call-template name="entities"><xsl:with-param name="text" select="substring($rest, 4)"/></xsl:call-template></xsl:when>
<xsl:when test="starts-with($rest, 'quot;')">"<xsl:call-template name="entities"><xsl:with-param name="text" select="substring($rest, 6)"/></xsl:call-template></xsl:when>
<xsl:when test="starts-with($rest, '#39;')">'<xsl:call-template name="entities"><xsl:with-param name="text" select="substring($rest, 5)"/></xsl:call-template></xsl:when>
<xsl:otherwise>&amp;<xsl:call-template name="entities"><xsl:with-param name="text" select="$rest"/></xsl:call-template></xsl:otherwise>
</xsl:choose>
</xsl:when>
<xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
</xsl:choose>
</xsl:template>

<xsl:template match="/"><xsl:apply-templates select="rss/channel"/></xsl:template>
</xsl:stylesheet>
