namespace BeijingEts.Functions.Lists;

public static class ListsServices
{
    public static IServiceCollection AddLists(this IServiceCollection services) => services
        .AddSingleton<UnitStore>()
        .AddSingleton<ListRulesStore>()
        .AddSingleton<StatisticsStore>()
        .AddSingleton<PublishedListStore>()
        .AddSingleton<OptInStore>()
        .AddSingleton<ProjectStore>()
        .AddSingleton<ListPublisher>()
        .AddSingleton<RemovalStore>()
        .AddSingleton<UnitChangeStore>()
        .AddSingleton<UnitChangeEffects>();
}
