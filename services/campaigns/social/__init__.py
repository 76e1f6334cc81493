"""Social analytics: imported posts and daily metrics, engagement and competitor reports, influencers, contests and
user-generated content. It never touches a campaign; it lives in campaigns because it shares its database."""
