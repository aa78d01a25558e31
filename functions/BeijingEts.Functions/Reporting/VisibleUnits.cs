using System.Security.Claims;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Reporting;

/// <summary>
/// Which of some units a caller may read about, as for the units' own reports (UnitAccess): the regulator all, a
/// district bureau the units of its district, a unit itself. Used where one record names many units (a sample, a
/// verification body's relationships and evaluations), so each caller sees only its share.
/// </summary>
public static class VisibleUnits
{
    public static async Task<IReadOnlySet<string>> FilterAsync(ClaimsPrincipal user, IEnumerable<string> units, UnitStore store, CancellationToken cancellationToken)
    {
        var distinct = units.Distinct(StringComparer.Ordinal).ToList();
        if (user.IsInRole(Roles.Regulator)) return distinct.ToHashSet(StringComparer.Ordinal);
        var visible = new HashSet<string>(StringComparer.Ordinal);
        foreach (var code in distinct)
        {
            var district = user.IsInRole(Roles.District) ? (await store.FindAsync(code, cancellationToken))?.Unit.District : null;
            if (UnitAccess.Check(user, code, district) == AccessVerdict.Allowed) visible.Add(code);
        }
        return visible;
    }
}
