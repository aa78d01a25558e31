using System.Security.Cryptography;
using System.Text;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Lists;

public sealed record PublishOutcome(ListRevision Revision, bool Unchanged);

/// <summary>
/// Computes a year's list from the registered units, that year's statistics and the rules in force (Art. 6), and
/// freezes it as a new revision, unless it is the same as the latest one.
/// </summary>
public sealed class ListPublisher(
    UnitStore units, StatisticsStore statistics, ListRulesStore rules, PublishedListStore lists, OptInStore optIns, ProjectStore projects, Supervision.DistrictCheckService checks,
    NoticeOutbox notices, AuditLog audit, TimeProvider clock)
{
    public async Task<PublishOutcome> PublishAsync(int year, Actor actor, CancellationToken cancellationToken)
    {
        var inForce = await rules.InForceAsync(year, cancellationToken);
        var allUnits = units.ReadAllAsync(cancellationToken);
        var figures = statistics.ReadYearAsync(year, cancellationToken);
        // Art. 10 para 2: a project gone into operation this year counts toward its owner's classification with its expected emissions.
        var classified = await projects.WithProjectsAsync(year, await figures, cancellationToken);
        var entries = Compute(year, inForce, await allUnits, classified, await optIns.VoluntaryAsync(year, cancellationToken));
        var hash = Hash(entries);

        var latest = await lists.LatestRevisionAsync(year, cancellationToken);
        if (latest is not null && latest.Hash == hash)
        {
            // Publishing again tells again what the latest revision changed: a run cut off after marking it published
            // told nobody, and what it did tell is not written twice (the ids are fixed).
            var before = (await lists.RevisionsAsync(year, cancellationToken)).Where(r => r.Revision < latest.Revision).MaxBy(r => r.Revision);
            await TellUnitsAsync(year, latest.Revision, entries, before is null ? await PreviousYearAsync(year, cancellationToken) ?? [] : await lists.EntriesAsync(year, before.Revision, cancellationToken),
                firstOfYear: before is null, cancellationToken);
            return new PublishOutcome(latest, Unchanged: true);
        }
        var (number, etag) = await lists.ReserveAsync(year, cancellationToken);
        var revision = new ListRevision(year, number, clock.GetUtcNow(), actor.Id, hash,
            entries.Count(e => e.Category == Categories.Key), entries.Count(e => e.Category == Categories.Reporting), ListRulesView.From(inForce));
        await lists.WriteAsync(revision, entries, cancellationToken);
        await lists.MarkPublishedAsync(revision, etag, cancellationToken);
        await audit.RecordAsync(actor, "list.published", $"lists/{year}", latest, revision, cancellationToken);
        // Art. 9 para 1: each district confirms the changes in its units from the previous year's list.
        var previous = await PreviousYearAsync(year, cancellationToken);
        await checks.ListPublishedAsync(revision, entries, previous, await allUnits, cancellationToken);
        await TellUnitsAsync(year, revision.Revision, entries, latest is null ? previous ?? [] : await lists.EntriesAsync(year, latest.Revision, cancellationToken),
            firstOfYear: latest is null, cancellationToken);
        return new PublishOutcome(revision, Unchanged: false);
    }

    /// <summary>The previous year's latest list, or null when it had none.</summary>
    private async Task<IReadOnlyList<ListEntry>?> PreviousYearAsync(int year, CancellationToken cancellationToken) =>
        await lists.LatestRevisionAsync(year - 1, cancellationToken) is { } last ? await lists.EntriesAsync(year - 1, last.Revision, cancellationToken) : null;

    /// <summary>
    /// Art. 7: each unit learns it is on the year's list, and in which category: every unit on the year's first revision
    /// (the year's obligations are new), and a unit a later revision adds or moves. A unit on the list before (the previous
    /// revision, or for the first revision the previous year's latest list) and not on this one learns it is off.
    /// </summary>
    private async Task TellUnitsAsync(int year, int revision, IReadOnlyList<ListEntry> entries, IReadOnlyList<ListEntry> before, bool firstOfYear,
        CancellationToken cancellationToken)
    {
        var was = before.ToDictionary(e => e.Uscc, e => e.Category, StringComparer.Ordinal);
        var listed = entries.Select(e => e.Uscc).ToHashSet(StringComparer.Ordinal);
        var drafts = entries.Where(e => firstOfYear || was.GetValueOrDefault(e.Uscc) != e.Category).Select(e => NoticeTemplates.ListIncluded(e.Uscc, year, revision, e.Category))
            .Concat(before.Where(e => !listed.Contains(e.Uscc)).Select(e => NoticeTemplates.ListRemoved(e.Uscc, year, revision)))
            .ToList();
        await notices.PublishAsync(drafts, cancellationToken);
    }

    /// <summary>
    /// The list as the rules make it: every carbon emission unit with statistics for the year, by USCC; a general
    /// reporting unit with an approved opt-in covering the year (<paramref name="voluntary"/>) is listed as key, marked voluntary.
    /// </summary>
    public static List<ListEntry> Compute(int year, ListRules rules, IReadOnlyDictionary<string, UnitRecord> units, IReadOnlyDictionary<string, UnitStatistics> figures,
        IReadOnlySet<string> voluntary)
    {
        var entries = new List<ListEntry>();
        foreach (var (uscc, stats) in figures)
        {
            if (!units.TryGetValue(uscc, out var unit)) continue;
            var category = Classification.Classify(rules, unit.Industry, unit.NationalEts, stats);
            if (category == UnitCategory.NotListed) continue;
            // Art. 9: a confirmed removal ends key-unit status from the year it takes effect.
            if (category == UnitCategory.Key && unit.Status == UnitStatus.Removed && unit.RemovedOn is { } removed && removed.Year <= year)
            {
                category = UnitCategory.Reporting;
            }
            var optedIn = category == UnitCategory.Reporting && unit.Status == UnitStatus.Active && voluntary.Contains(uscc);
            if (optedIn) category = UnitCategory.Key;
            entries.Add(new ListEntry(uscc, unit.Name, unit.District, unit.Industry, Categories.Of(category), stats.EnergyConsumptionTce,
                Classification.CountedEmissionsT(unit.NationalEts, stats), optedIn));
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Uscc, b.Uscc));
        return entries;
    }

    private static string Hash(IEnumerable<ListEntry> entries)
    {
        var canonical = new StringBuilder();
        foreach (var e in entries)
        {
            canonical.Append(e.Uscc).Append('\t').Append(e.Name).Append('\t').Append(e.District).Append('\t').Append(e.Industry).Append('\t').Append(e.Category);
            // Only a voluntary entry adds to the text, so lists with none hash as they always did.
            if (e.Voluntary) canonical.Append("\tvoluntary");
            canonical.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}

public static class Categories
{
    public const string Key = "key";
    public const string Reporting = "reporting";

    public static string Of(UnitCategory category) => category switch
    {
        UnitCategory.Key => Key,
        UnitCategory.Reporting => Reporting,
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, "An unlisted unit has no list category."),
    };
}
